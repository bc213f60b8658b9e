package maillog

import (
	"os"
	"testing"

	"github.com/mxray/mxray/internal/netguard"
)

// TestMain keeps every test of this package on loopback: a DNS query, SMTP
// session or HTTPS fetch that was not routed to the test world fails
// instead of reaching the internet.
func TestMain(m *testing.M) {
	netguard.LoopbackOnly()
	os.Exit(m.Run())
}
