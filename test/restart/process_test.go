package restart

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/astraguard/astraguard/test/harness"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(withBinaries{m}) }

// bins are the binaries TestMain built for this run.
var bins struct{ service, model string }

type withBinaries struct{ m *testing.M }

// Run builds both commands once (harness.Build), runs the tests and
// removes the binaries.
func (w withBinaries) Run() int {
	p, err := harness.Build("astraguard", "astraguard-model")
	if err != nil {
		fmt.Fprintln(os.Stderr, "restart:", err)
		return 1
	}
	bins.service, bins.model = p[0], p[1]
	return harness.Main(w.m)
}

// proc is one running binary of a test.
type proc struct {
	*harness.Process
	t                  *testing.T
	grpcAddr, httpAddr string
}

// start runs bin on ephemeral loopback ports with args and waits for its
// "serving" line; the process is killed when t ends.
func start(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	p := harness.Run(t, bin, name, args...)
	return &proc{Process: p, t: t, grpcAddr: p.GRPCAddr, httpAddr: p.HTTPAddr}
}

// stop sends SIGTERM and fails the test unless the process exits cleanly
// within a minute.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.Stop(time.Minute); err != nil {
		p.t.Fatal(err)
	}
}

// kill sends SIGKILL: no drain, no final checkpoint.
func (p *proc) kill() { _ = p.Kill() }

func (p *proc) logText() string { return p.Log() }

// conn dials the gRPC port.
func (p *proc) conn() *grpc.ClientConn {
	p.t.Helper()
	c, err := grpc.NewClient("passthrough:///"+p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = c.Close() })
	return c
}

// metric returns the value of the sample whose name and labels read
// exactly series, or -1 when there is none.
func (p *proc) metric(ctx context.Context, series string) float64 {
	p.t.Helper()
	v, ok, err := p.Metric(ctx, series)
	if err != nil {
		p.t.Fatal(err)
	}
	if !ok {
		return -1
	}
	return v
}

// waitMetric polls until metric series exceeds after.
func (p *proc) waitMetric(ctx context.Context, series string, after float64) float64 {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if v := p.metric(ctx, series); v > after {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("%s: %s did not exceed %v within 60s", p.Name, series, after)
	return 0
}
