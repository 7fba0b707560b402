package scaleout

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/astraguard/astraguard/test/harness"
)

// withBinaries runs the tests and removes the binary buildService built.
type withBinaries struct{ m *testing.M }

func (w withBinaries) Run() int { return harness.Main(w.m) }

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

// instance is one running astraguard process (harness.Process).
type instance struct {
	*harness.Process
	name, grpcAddr, httpAddr string
	logDone                  <-chan struct{} // closed once it has exited
}

// startInstance starts the service on ephemeral loopback ports and waits
// for its "serving" line; it is killed when t ends.
func startInstance(t *testing.T, bin, name string, extra ...string) *instance {
	t.Helper()
	p := harness.Run(t, bin, name, append([]string{"--log-format=json", "--log-level=info", "--grace-period=1s"}, extra...)...)
	return &instance{Process: p, name: name, grpcAddr: p.GRPCAddr, httpAddr: p.HTTPAddr, logDone: p.Exited()}
}

func (in *instance) freeze(t *testing.T)    { in.Freeze(t) }
func (in *instance) terminate(t *testing.T) { in.Terminate(t) }
func (in *instance) kill() error            { return in.Kill() }
