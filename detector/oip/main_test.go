package oip_test

import (
	"context"
	"math"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/gen/inference"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// listener is a bufconn listener that can be replaced, so a test can
// restart the server "at the same address".
type listener struct {
	cur atomic.Pointer[bufconn.Listener]
}

func (l *listener) dial(ctx context.Context, _ string) (net.Conn, error) {
	return l.cur.Load().DialContext(ctx)
}

// serveOn runs impl on a fresh bufconn listener installed in l; the
// returned stop stops it and waits for Serve to return. It is also
// registered as a cleanup, so calling it is optional.
func serveOn(t *testing.T, l *listener, impl inference.GRPCInferenceServiceServer) (stop func()) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	l.cur.Store(lis)
	return serveLis(t, lis, impl)
}

func serveLis(t *testing.T, lis net.Listener, impl inference.GRPCInferenceServiceServer) (stop func()) {
	t.Helper()
	srv := grpc.NewServer()
	inference.RegisterGRPCInferenceServiceServer(srv, impl)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(lis); err != nil {
			t.Errorf("Serve() = %v", err)
		}
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			srv.Stop()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

// bufConn returns a client conn to l, closed at cleanup.
func bufConn(t *testing.T, l *listener, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{
		grpc.WithContextDialer(l.dial),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// MinConnectTimeout must be set with Backoff: zero means a connect
		// deadline of one backoff step.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 5 * time.Millisecond, Multiplier: 1.6, MaxDelay: 50 * time.Millisecond},
			MinConnectTimeout: 10 * time.Second,
		}),
	}, opts...)
	conn, err := grpc.NewClient("passthrough:///bufnet", opts...)
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// fakeBuf serves impl over bufconn and returns a conn to it.
func fakeBuf(t *testing.T, impl inference.GRPCInferenceServiceServer) *grpc.ClientConn {
	t.Helper()
	var l listener
	serveOn(t, &l, impl)
	return bufConn(t, &l)
}

// series returns n deterministic samples of a noisy daily-ish wave with a
// spike two thirds in, one minute apart from start.
func series(seed uint64, start time.Time, n int) (ts []int64, vs []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		v := 10 + math.Sin(float64(i)/15) + 0.1*r.NormFloat64()
		if i == 2*n/3 {
			v += 8
		}
		ts = append(ts, start.Add(time.Duration(i)*time.Minute).UnixNano())
		vs = append(vs, v)
	}
	return ts, vs
}

// batches cuts parallel series into batches of size samples per series:
// batch k holds samples [k*size, (k+1)*size) of every series.
func batches(ids []string, n, size int) [][]detector.Group {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	all := make([]detector.Group, len(ids))
	for i, id := range ids {
		ts, vs := series(uint64(i+1), start, n)
		all[i] = detector.Group{SeriesID: id, UnixNanos: ts, Values: vs}
	}
	var out [][]detector.Group
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		var b []detector.Group
		for _, g := range all {
			b = append(b, detector.Group{SeriesID: g.SeriesID, UnixNanos: g.UnixNanos[lo:hi], Values: g.Values[lo:hi]})
		}
		out = append(out, b)
	}
	return out
}

func count(in []detector.Group) int {
	n := 0
	for _, g := range in {
		n += len(g.Values)
	}
	return n
}

// counter is a fake prometheus.Counter.
type counter struct{ n atomic.Int64 }

func (c *counter) Inc() { c.n.Add(1) }
