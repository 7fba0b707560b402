package server

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/breaker/breakergrpc"
	"github.com/astraguard/astraguard/breaker/breakerprom"
	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable fake clock shared by breaker and detector.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Model behaviours for fakeModel.
const (
	modelOK int32 = iota
	modelFail
	modelHang
)

// fakeModel scores value/100 and flags values above 50, or fails or hangs
// as its mode says; it counts calls.
type fakeModel struct {
	mode  atomic.Int32
	calls atomic.Int32
}

var errModelDown = errors.New("model down")

func (m *fakeModel) Predict(ctx context.Context, in []detector.Group, out []detector.Prediction) error {
	m.calls.Add(1)
	switch m.mode.Load() {
	case modelFail:
		return errModelDown
	case modelHang:
		<-ctx.Done()
		return ctx.Err()
	}
	i := 0
	for _, g := range in {
		for _, v := range g.Values {
			out[i] = detector.Prediction{Score: v / 100, Anomaly: v > 50, Warm: true}
			i++
		}
	}
	return nil
}

// env is one server over bufconn with its collaborators.
type env struct {
	clock    *clock
	model    *fakeModel
	breakers *breaker.Registry
	reg      *prometheus.Registry
	srv      *Server
	conn     *grpc.ClientConn
	detect   astraguardv1.DetectorServiceClient
	admin    astraguardv1.BreakerAdminClient
}

// strict is the seed's strict preset: 2 failures, 10s, 1 success.
var strict = breaker.Settings{FailureThreshold: 2, RecoveryTimeout: 10 * time.Second, SuccessThreshold: 1}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}, model: &fakeModel{}, reg: prometheus.NewRegistry()}
	hub := NewHub()
	var err error
	e.breakers, err = breaker.NewRegistry(strict,
		breaker.WithClock(e.clock), breaker.WithObserver(hub.Publish), breaker.WithClassifier(breakergrpc.Classify))
	if err != nil {
		t.Fatal(err)
	}
	e.reg.MustRegister(breakerprom.NewCollector(e.breakers))
	det, err := detector.New(e.model, e.breakers.Breaker("model"), detector.Config{ModelTimeout: 20 * time.Millisecond},
		detector.WithClock(e.clock), detector.WithRegisterer(e.reg),
		detector.WithRejectReason(func(err error) detector.Reason {
			if errors.Is(err, breaker.ErrForcedOpen) {
				return detector.ReasonForcedOpen
			}
			return detector.ReasonBreakerOpen
		}))
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = New(det, NewAdminService(e.breakers, hub, discard()), cfg, WithRegisterer(e.reg))
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(lis) }()
	t.Cleanup(func() {
		e.srv.grpc.Stop()
		if err := <-done; err != nil {
			t.Errorf("Serve() error = %v", err)
		}
	})
	e.srv.SetServing()
	e.conn, err = grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.conn.Close() })
	e.detect = astraguardv1.NewDetectorServiceClient(e.conn)
	e.admin = astraguardv1.NewBreakerAdminClient(e.conn)
	return e
}

// batch returns a DetectBatch request of one series with the given values
// at increasing timestamps starting at ts.
func (e *env) batch(id string, ts int64, values ...float64) *astraguardv1.DetectBatchRequest {
	nanos := make([]int64, len(values))
	for i := range nanos {
		nanos[i] = ts + int64(i)
	}
	return &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: id, UnixNanos: nanos, Values: values}}}
}

// newFuzzEnv returns the detector service alone, over a healthy fake model.
func newFuzzEnv(f *testing.F) *DetectorService {
	breakers, err := breaker.NewRegistry(strict)
	if err != nil {
		f.Fatal(err)
	}
	det, err := detector.New(&fakeModel{}, breakers.Breaker("model"), detector.Config{MaxSeries: 1000})
	if err != nil {
		f.Fatal(err)
	}
	return NewDetectorService(det, 10_000)
}
