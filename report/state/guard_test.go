package state

import (
	"os"
	"testing"

	"github.com/mxray/mxray/internal/netguard"
)

// TestMain keeps every test of this package on loopback; it also runs the
// helper process of TestSaveSurvivesKillMidWrite.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(killHelper())
	}
	netguard.LoopbackOnly()
	os.Exit(m.Run())
}
