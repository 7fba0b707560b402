package scaleout

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/astraguard/astraguard/test/harness"
)

// buildService builds cmd/astraguard once per test binary
// (harness.Binary), unless SCALEOUT_SERVICE_BIN names a binary to run
// instead (one built with -race, say, or while the tree does not build; a
// relative path is from this directory).
func buildService(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SCALEOUT_SERVICE_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatalf("SCALEOUT_SERVICE_BIN: %v", err)
		}
		return abs
	}
	return harness.Binary(t, "astraguard")
}

// startInstance starts the service on ephemeral loopback ports and waits
// for its "serving" line; it is killed when t ends.
func startInstance(t *testing.T, bin, name string, extra ...string) *harness.Process {
	t.Helper()
	return harness.Run(t, bin, name, append([]string{"--log-format=json", "--log-level=info", "--grace-period=1s"}, extra...)...)
}
