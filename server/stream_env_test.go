package server

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// halfScorer scores every sample 0.5 by the heuristic; it keeps the limit
// tests apart from the detector's own rules.
type halfScorer struct{}

func (halfScorer) Score(_ context.Context, dst []detector.Verdict, groups []detector.Group) []detector.Verdict {
	for _, g := range groups {
		for i := range g.Values {
			v := detector.Verdict{Score: 0.5, Source: detector.SourceHeuristic}
			if i < len(g.UnixNanos) {
				v.UnixNanos = g.UnixNanos[i]
			}
			dst = append(dst, v)
		}
	}
	return dst
}

// tcpEnv is a Server on a real 127.0.0.1 listener, so flow control and
// bad peers behave as in production.
type tcpEnv struct {
	srv    *Server
	addr   string
	reg    *prometheus.Registry
	ended  chan error // each Detect handler's result, when watched
	mu     sync.Mutex
	maxRun int // most requests one stream held at once; guarded by mu
}

type tcpOptions struct {
	watchEnded bool
	opts       []Option
	scorer     Scorer // default halfScorer
	// hooks, when set, installs more stream hooks before serving starts.
	hooks func(h *streamHooks)
}

func newTCPEnv(t *testing.T, cfg Config, o tcpOptions) *tcpEnv {
	t.Helper()
	e := &tcpEnv{reg: prometheus.NewRegistry(), ended: make(chan error, 16)}
	breakers, err := breaker.NewRegistry(strict)
	if err != nil {
		t.Fatal(err)
	}
	var hooks streamHooks
	hooks.inFlight = func(n int) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.maxRun = max(e.maxRun, n)
	}
	if o.watchEnded {
		hooks.ended = func(err error) { e.ended <- err }
	}
	if o.hooks != nil {
		o.hooks(&hooks)
	}
	opts := append([]Option{WithRegisterer(e.reg), withStreamHooks(hooks)}, o.opts...)
	var scorer Scorer = halfScorer{}
	if o.scorer != nil {
		scorer = o.scorer
	}
	e.srv, err = New(scorer, NewAdminService(breakers, NewHub(), discard()), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = lis.Addr().String()
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(lis) }()
	t.Cleanup(func() {
		e.srv.grpc.Stop()
		if err := <-done; err != nil {
			t.Errorf("Serve() error = %v", err)
		}
		e.srv.detect.wait()
	})
	e.srv.SetServing()
	return e
}

// client dials the server; extra options shape the client's transport.
func (e *tcpEnv) client(t *testing.T, opts ...grpc.DialOption) (astraguardv1.DetectorServiceClient, *grpc.ClientConn) {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient("passthrough:///"+e.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return astraguardv1.NewDetectorServiceClient(conn), conn
}

func (e *tcpEnv) maxInFlight() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.maxRun
}

// series returns one SeriesSamples of n values at timestamps 1..n.
func series(id string, n int) *astraguardv1.SeriesSamples {
	s := &astraguardv1.SeriesSamples{SeriesId: id, UnixNanos: make([]int64, n), Values: make([]float64, n)}
	for i := range n {
		s.UnixNanos[i], s.Values[i] = int64(i+1), float64(i)
	}
	return s
}
