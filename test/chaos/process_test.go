package chaos

import (
	"time"

	"github.com/astraguard/astraguard/test/harness"
)

// process is one running binary (harness.Process), with the addresses
// its "serving" line named.
type process struct {
	*harness.Process
	grpcAddr, httpAddr string
}

// startProcess runs bin with args and waits for its "serving" log line.
func startProcess(name, bin string, args ...string) (*process, error) {
	p, err := harness.Launch(bin, name, args...)
	if err != nil {
		return nil, err
	}
	return &process{Process: p, grpcAddr: p.GRPCAddr, httpAddr: p.HTTPAddr}, nil
}

// kill sends SIGKILL (the crash case: no drain, no goodbye) and waits.
func (p *process) kill() { _ = p.Kill() }

// stop asks for a graceful shutdown and kills the process if it outlives
// grace. It reports an exit that was not clean.
func (p *process) stop(grace time.Duration) error { return p.Stop(grace) }
