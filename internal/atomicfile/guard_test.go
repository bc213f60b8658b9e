package atomicfile

import (
	"os"
	"testing"

	"github.com/mxray/mxray/internal/netguard"
)

// TestMain keeps every test of this package on loopback.
func TestMain(m *testing.M) {
	netguard.LoopbackOnly()
	os.Exit(m.Run())
}
