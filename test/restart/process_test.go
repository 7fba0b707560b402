package restart

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/astraguard/astraguard/test/harness"
)

// TestMain builds both commands once, before any test (harness.Main).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(harness.Suite{M: m, Prebuild: []string{"astraguard", "astraguard-model"}})
}

// proc is one running binary of a test.
type proc struct {
	*harness.Process
	t *testing.T
}

// start runs the command on ephemeral loopback ports with args and waits
// for its "serving" line; the process is killed when t ends.
func start(t *testing.T, command, name string, args ...string) *proc {
	t.Helper()
	return &proc{Process: harness.Run(t, harness.Binary(t, command), name, args...), t: t}
}

// stop sends SIGTERM and fails the test unless the process exits cleanly
// within a minute.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.Stop(time.Minute); err != nil {
		p.t.Fatal(err)
	}
}

// conn dials the gRPC port.
func (p *proc) conn() *grpc.ClientConn {
	p.t.Helper()
	c, err := grpc.NewClient("passthrough:///"+p.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
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
