package oip_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/modelserver"
)

const warmUp = 50

func newModelServer(t *testing.T, cfg modelserver.Config, opts ...modelserver.Option) *modelserver.Server {
	t.Helper()
	tmpl, err := model.NewTemplate(model.Config{WarmUp: warmUp})
	if err != nil {
		t.Fatalf("NewTemplate() = %v", err)
	}
	cfg.MaxSeries = 1000
	s, err := modelserver.New(tmpl, cfg, opts...)
	if err != nil {
		t.Fatalf("modelserver.New() = %v", err)
	}
	return s
}

// refModel is the reference model in process: one model.Detector per
// series, fed exactly what the remote one is sent.
type refModel struct {
	tmpl   *model.Template
	series map[string]*model.Detector
}

func newRef(t *testing.T) *refModel {
	t.Helper()
	tmpl, err := model.NewTemplate(model.Config{WarmUp: warmUp})
	if err != nil {
		t.Fatalf("NewTemplate() = %v", err)
	}
	return &refModel{tmpl: tmpl, series: map[string]*model.Detector{}}
}

func (m *refModel) Predict(_ context.Context, in []detector.Group, out []detector.Prediction) error {
	i := 0
	for _, g := range in {
		d := m.series[g.SeriesID]
		if d == nil {
			nd := m.tmpl.NewDetector()
			d = &nd
			m.series[g.SeriesID] = d
		}
		for j, v := range g.Values {
			r := d.Update(g.UnixNanos[j], v)
			out[i] = detector.Prediction{Score: r.Score, Anomaly: r.Anomaly, Warm: r.Warm, Explain: detector.Explanation{
				Mechanism: detector.ParseMechanism(r.Mechanism.String()),
				HasBand:   r.Warm, Expected: r.Expected, Lower: r.Lower, Upper: r.Upper,
			}}
			i++
		}
	}
	return nil
}

func newClient(t *testing.T, conn grpc.ClientConnInterface, cfg oip.Config, opts ...oip.Option) *oip.Client {
	t.Helper()
	c, err := oip.New(conn, cfg, opts...)
	if err != nil {
		t.Fatalf("oip.New() = %v", err)
	}
	return c
}

// TestClientAgainstModelServer runs the client and the model server
// against each other over bufconn and over a real loopback port, and checks
// every prediction equals the in-process model's, bit for bit.
func TestClientAgainstModelServer(t *testing.T) {
	transports := map[string]func(t *testing.T, srv *modelserver.Server) grpc.ClientConnInterface{
		"bufconn": func(t *testing.T, srv *modelserver.Server) grpc.ClientConnInterface { return fakeBuf(t, srv) },
		"loopback": func(t *testing.T, srv *modelserver.Server) grpc.ClientConnInterface {
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatalf("Listen() = %v", err)
			}
			serveLis(t, lis, srv)
			conn, err := oip.NewConn(lis.Addr().String())
			if err != nil {
				t.Fatalf("NewConn() = %v", err)
			}
			t.Cleanup(func() { conn.Close() })
			return conn
		},
	}
	for name, connect := range transports {
		t.Run(name, func(t *testing.T) {
			srv := newModelServer(t, modelserver.Config{}, modelserver.WithInstanceID("i1"))
			c := newClient(t, connect(t, srv), oip.Config{})
			if err := c.CheckReady(t.Context()); err != nil {
				t.Fatalf("CheckReady() = %v", err)
			}
			ref := newRef(t)
			warm := 0
			for k, b := range batches([]string{"sat1/voltage", "sat1/temp", "sat2/voltage"}, 400, 50) {
				n := count(b)
				got, want := make([]detector.Prediction, n), make([]detector.Prediction, n)
				if err := c.Predict(t.Context(), b, got); err != nil {
					t.Fatalf("batch %d: Predict() = %v", k, err)
				}
				if err := ref.Predict(t.Context(), b, want); err != nil {
					t.Fatalf("batch %d: reference Predict() = %v", k, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("batch %d: Predict() mismatch (-embedded +remote):\n%s", k, diff)
				}
				for _, p := range got {
					if p.Warm {
						warm++
					}
				}
			}
			if warm == 0 {
				t.Errorf("no warm prediction in 400 samples per series")
			}
			if got := c.InstanceID(); got != "i1" {
				t.Errorf("InstanceID() = %q, want %q", got, "i1")
			}
			if got := c.Restarts(); got != 0 {
				t.Errorf("Restarts() = %d, want 0", got)
			}
		})
	}
}

func TestPredictEdgeCases(t *testing.T) {
	srv := newModelServer(t, modelserver.Config{})
	c := newClient(t, fakeBuf(t, srv), oip.Config{})

	if err := c.Predict(t.Context(), nil, nil); err != nil {
		t.Errorf("Predict(empty) = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b := batches([]string{"a"}, 3, 3)[0]
	if err := c.Predict(ctx, b, make([]detector.Prediction, 3)); err != context.Canceled {
		t.Errorf("Predict(cancelled) = %v, want context.Canceled", err)
	}
	if err := c.Predict(t.Context(), b, make([]detector.Prediction, 2)); err == nil {
		t.Errorf("Predict(short out) = nil, want error")
	}
	bad := []detector.Group{{SeriesID: "a", UnixNanos: []int64{1}, Values: []float64{1, 2}}}
	if err := c.Predict(t.Context(), bad, make([]detector.Prediction, 2)); err == nil {
		t.Errorf("Predict(missing timestamps) = nil, want error")
	}
	// A NaN is the detector's bug, not the model's: the server refuses it
	// and the code survives wrapping.
	nan := []detector.Group{{SeriesID: "a", UnixNanos: []int64{1}, Values: []float64{zero() / zero()}}}
	err := c.Predict(t.Context(), nan, make([]detector.Prediction, 1))
	if got := status.Code(err); got != codes.InvalidArgument {
		t.Errorf("status.Code(Predict(NaN)) = %v (%v), want InvalidArgument", got, err)
	}
}

func zero() float64 { return 0 }

func TestCheckReady(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		loadErrors := prometheus.NewCounter(prometheus.CounterOpts{Name: "astraguard_anomaly_model_load_errors_total"})
		c := newClient(t, fakeBuf(t, newModelServer(t, modelserver.Config{})), oip.Config{}, oip.WithLoadErrors(loadErrors))
		if err := c.CheckReady(t.Context()); err != nil {
			t.Errorf("CheckReady() = %v, want nil", err)
		}
		if got := testutil.ToFloat64(loadErrors); got != 0 {
			t.Errorf("load errors = %v, want 0", got)
		}
	})
	t.Run("draining", func(t *testing.T) {
		srv := newModelServer(t, modelserver.Config{})
		srv.SetReady(false)
		var loadErrors counter
		c := newClient(t, fakeBuf(t, srv), oip.Config{}, oip.WithLoadErrors(&loadErrors))
		if err := c.CheckReady(t.Context()); !errors.Is(err, oip.ErrNotReady) {
			t.Errorf("CheckReady() = %v, want ErrNotReady", err)
		}
		if got := loadErrors.n.Load(); got != 1 {
			t.Errorf("load errors = %d, want 1", got)
		}
	})
	t.Run("unknown model", func(t *testing.T) {
		var loadErrors counter
		conn := fakeBuf(t, newModelServer(t, modelserver.Config{}))
		c := newClient(t, conn, oip.Config{ModelName: "other"}, oip.WithLoadErrors(&loadErrors))
		if err := c.CheckReady(t.Context()); status.Code(err) != codes.NotFound {
			t.Errorf("CheckReady() = %v, want code NotFound", err)
		}
		if got := loadErrors.n.Load(); got != 1 {
			t.Errorf("load errors = %d, want 1", got)
		}
	})
	t.Run("wrong layout", func(t *testing.T) {
		var loadErrors counter
		c := newClient(t, fakeBuf(t, &wrongLayout{}), oip.Config{}, oip.WithLoadErrors(&loadErrors))
		if err := c.CheckReady(t.Context()); !errors.Is(err, oip.ErrNotReady) {
			t.Errorf("CheckReady() = %v, want ErrNotReady", err)
		}
		if got := loadErrors.n.Load(); got != 1 {
			t.Errorf("load errors = %d, want 1", got)
		}
	})
}

// TestOneCallPerPredict: every sample of every group goes in ONE
// ModelInfer.
func TestOneCallPerPredict(t *testing.T) {
	f := &flaky{}
	c := newClient(t, fakeBuf(t, f), oip.Config{})
	b := batches([]string{"a", "b", "c", "d"}, 25, 25)[0]
	if err := c.Predict(t.Context(), b, make([]detector.Prediction, 100)); err != nil {
		t.Fatalf("Predict() = %v", err)
	}
	if got := f.attempts.Load(); got != 1 {
		t.Errorf("ModelInfer calls = %d, want 1", got)
	}
}

// TestConcurrentPredict hammers one Client from several goroutines, one
// series each, and checks each series against the in-process model.
func TestConcurrentPredict(t *testing.T) {
	c := newClient(t, fakeBuf(t, newModelServer(t, modelserver.Config{})), oip.Config{})
	ids := []string{"s0", "s1", "s2", "s3", "s4", "s5"}
	var wg sync.WaitGroup
	for _, id := range ids {
		ref := newRef(t) // here: Fatalf only on the test goroutine
		wg.Go(func() {
			for k, b := range batches([]string{id}, 200, 20) {
				got, want := make([]detector.Prediction, count(b)), make([]detector.Prediction, count(b))
				if err := c.Predict(t.Context(), b, got); err != nil {
					t.Errorf("series %s batch %d: Predict() = %v", id, k, err)
					return
				}
				_ = ref.Predict(t.Context(), b, want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("series %s batch %d: mismatch (-embedded +remote):\n%s", id, k, diff)
					return
				}
			}
		})
	}
	wg.Wait()
}
