package client

import (
	"errors"
	"io"
	"sync"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo answers every request with one verdict per sample, and records the
// partition keys of its streams. failAfter > 0 ends each stream with
// failWith after that many answers, leaving the next request unanswered;
// dup answers every request twice.
type echo struct {
	astraguardv1.UnimplementedDetectorServiceServer
	failAfter int
	failWith  error
	dup       bool

	mu      sync.Mutex
	keys    map[string]int // guarded by mu; requests per partition key
	streams int            // guarded by mu
	done    int            // guarded by mu; streams the client ended
}

func (e *echo) ended() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done
}

func (e *echo) Detect(s astraguardv1.DetectorService_DetectServer) error {
	md, _ := metadata.FromIncomingContext(s.Context())
	key := ""
	if v := md.Get(HashHeader); len(v) > 0 {
		key = v[0]
	}
	e.mu.Lock()
	e.streams++
	e.mu.Unlock()
	for i := 0; ; i++ {
		req, err := s.Recv()
		if errors.Is(err, io.EOF) {
			e.mu.Lock()
			e.done++
			e.mu.Unlock()
			return nil
		}
		if err != nil {
			return err
		}
		if e.failAfter > 0 && i >= e.failAfter {
			return e.failWith
		}
		e.mu.Lock()
		if e.keys == nil {
			e.keys = map[string]int{}
		}
		e.keys[key]++
		e.mu.Unlock()
		resp := &astraguardv1.DetectResponse{RequestId: req.GetRequestId()}
		for _, ss := range req.GetSeries() {
			for _, t := range ss.GetUnixNanos() {
				resp.Verdicts = append(resp.Verdicts, &astraguardv1.Verdict{SeriesId: ss.GetSeriesId(), UnixNanos: t})
			}
		}
		for range 1 + btoi(e.dup) {
			if err := s.Send(resp); err != nil {
				return err
			}
		}
	}
}

func (e *echo) keySet() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.keys))
	for k, v := range e.keys {
		out[k] = v
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// serve runs svc on a loopback port until stop or the end of the test.
func serve(t testing.TB, svc astraguardv1.DetectorServiceServer) (addr string, stop func()) {
	t.Helper()
	srv := grpc.NewServer()
	astraguardv1.RegisterDetectorServiceServer(srv, svc)
	return testkit.ServeLoopback(t, srv)
}

// req is one request of n samples of series id, starting at time t0.
func req(id string, t0 int64, n int) *astraguardv1.DetectRequest {
	ss := &astraguardv1.SeriesSamples{SeriesId: id}
	for i := range n {
		ss.UnixNanos = append(ss.UnixNanos, t0+int64(i))
		ss.Values = append(ss.Values, float64(i))
	}
	return &astraguardv1.DetectRequest{Series: []*astraguardv1.SeriesSamples{ss}}
}
