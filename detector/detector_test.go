package detector

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// fakeModel scores value/100 and flags values above 50; series named
// "cold/..." are never warm. Set err, hang or panicMsg to make it misbehave.
type fakeModel struct {
	mu       sync.Mutex
	calls    [][]Group
	err      error
	hang     bool
	panicMsg string
}

func (m *fakeModel) Predict(ctx context.Context, in []Group, out []Prediction) error {
	m.mu.Lock()
	m.calls = append(m.calls, cloneGroups(in))
	err, hang, p := m.err, m.hang, m.panicMsg
	m.mu.Unlock()
	if p != "" {
		panic(p)
	}
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	i := 0
	for _, g := range in {
		for _, v := range g.Values {
			out[i] = Prediction{Score: v / 100, Anomaly: v > 50, Warm: !strings.HasPrefix(g.SeriesID, "cold/")}
			i++
		}
	}
	return nil
}

func cloneGroups(in []Group) []Group {
	out := make([]Group, len(in))
	for i, g := range in {
		out[i] = Group{SeriesID: g.SeriesID, UnixNanos: append([]int64(nil), g.UnixNanos...), Values: append([]float64(nil), g.Values...)}
	}
	return out
}

// fakeGate records outcomes and rejects with rejectErr when set.
type fakeGate struct {
	mu        sync.Mutex
	rejectErr error
	done      []error
}

func (g *fakeGate) Allow() (uint64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return 7, g.rejectErr
}

func (g *fakeGate) Done(ticket uint64, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ticket != 7 {
		panic("wrong ticket")
	}
	g.done = append(g.done, err)
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newTestDetector(t *testing.T, m Model, g Gate, cfg Config, opts ...Option) (*Detector, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts = append([]Option{WithClock(&fakeClock{t0}), WithRegisterer(reg)}, opts...)
	d, err := New(m, g, cfg, opts...)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return d, reg
}

func ns(offsets ...int) []int64 {
	out := make([]int64, len(offsets))
	for i, o := range offsets {
		out[i] = t0.Add(time.Duration(o) * time.Second).Add(-time.Hour).UnixNano()
	}
	return out
}

func TestScoreModelPath(t *testing.T) {
	m, g := &fakeModel{}, &fakeGate{}
	d, reg := newTestDetector(t, m, g, Config{})
	got := d.Score(t.Context(), nil, []Group{
		{SeriesID: "sat1/pressure", UnixNanos: ns(1, 2), Values: []float64{10, 60}},
		{SeriesID: "cold/x", UnixNanos: ns(1), Values: []float64{20}},
	})
	want := []Verdict{
		{UnixNanos: ns(1)[0], Score: 0.1, Source: SourceModel},
		{UnixNanos: ns(2)[0], Score: 0.6, Anomaly: true, Source: SourceModel},
		{UnixNanos: ns(1)[0], Source: SourceHeuristic, Reason: ReasonWarmingUp},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Score() mismatch (-want +got):\n%s", diff)
	}
	if len(g.done) != 1 || g.done[0] != nil {
		t.Errorf("gate outcomes = %v, want [nil]", g.done)
	}
	if v := metricValue(t, reg, "astraguard_anomaly_detections_total", "model"); v != 2 {
		t.Errorf("model detections = %v, want 2", v)
	}
	if v := metricValue(t, reg, "astraguard_anomaly_detections_total", "heuristic"); v != 1 {
		t.Errorf("heuristic detections = %v, want 1", v)
	}
}

func TestScoreFallbackReasons(t *testing.T) {
	errForced := errors.New("forced")
	tests := []struct {
		name       string
		model      *fakeModel
		gate       *fakeGate
		ctx        func(context.Context) context.Context
		wantReason Reason
		wantDone   func(error) bool // nil: Done must not be called
	}{
		{"breaker open", &fakeModel{}, &fakeGate{rejectErr: errors.New("open")}, nil, ReasonBreakerOpen, nil},
		{"forced open", &fakeModel{}, &fakeGate{rejectErr: errForced}, nil, ReasonForcedOpen, nil},
		{"model error", &fakeModel{err: errors.New("boom")}, &fakeGate{}, nil, ReasonModelError,
			func(err error) bool { return err != nil && err.Error() == "boom" }},
		{"model timeout", &fakeModel{hang: true}, &fakeGate{}, nil, ReasonModelTimeout,
			func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{"model panic", &fakeModel{panicMsg: "kaboom"}, &fakeGate{}, nil, ReasonModelError,
			func(err error) bool { return errors.Is(err, ErrModelPanic) }},
		{"caller cancelled", &fakeModel{hang: true}, &fakeGate{}, func(ctx context.Context) context.Context {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return ctx
		}, ReasonModelError, func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, reg := newTestDetector(t, tt.model, tt.gate, Config{ModelTimeout: 10 * time.Millisecond},
				WithRejectReason(func(err error) Reason {
					if errors.Is(err, errForced) {
						return ReasonForcedOpen
					}
					return ReasonBreakerOpen
				}))
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			got := d.Score(ctx, nil, []Group{{SeriesID: "sat1/voltage", UnixNanos: ns(1, 2), Values: []float64{8, 12}}})
			if len(got) != 2 {
				t.Fatalf("Score() returned %d verdicts, want 2", len(got))
			}
			for i, v := range got {
				if v.Source != SourceHeuristic || v.Reason != tt.wantReason {
					t.Errorf("verdict %d = %+v, want heuristic with reason %v", i, v, tt.wantReason)
				}
			}
			// 12 V breaks the seed's voltage limit [7, 9].
			if !got[1].Anomaly || !got[1].LimitViolation || got[0].Anomaly {
				t.Errorf("limit verdicts = %+v, want only the second flagged", got)
			}
			switch {
			case tt.wantDone == nil && len(tt.gate.done) != 0:
				t.Errorf("gate Done called %v, want never", tt.gate.done)
			case tt.wantDone != nil && (len(tt.gate.done) != 1 || !tt.wantDone(tt.gate.done[0])):
				t.Errorf("gate Done = %v, want one matching outcome", tt.gate.done)
			}
			if v := metricValue(t, reg, "astraguard_anomaly_model_fallback_activations_total"); v != 1 {
				t.Errorf("fallback activations = %v, want 1", v)
			}
			if v := metricValue(t, reg, "astraguard_anomaly_fallback_samples_total", tt.wantReason.String()); v != 2 {
				t.Errorf("fallback samples{%v} = %v, want 2", tt.wantReason, v)
			}
		})
	}
}

func TestScoreInvalidSamples(t *testing.T) {
	m, g := &fakeModel{}, &fakeGate{}
	d, reg := newTestDetector(t, m, g, Config{MaxSeriesIDBytes: 8})
	future := t0.Add(time.Hour).UnixNano()
	groups := []Group{
		{SeriesID: "a", UnixNanos: []int64{ns(1)[0], ns(2)[0], ns(3)[0], future, -1}, Values: []float64{1, math.NaN(), math.Inf(1), 2, 3}},
		{SeriesID: "", Values: []float64{1}},
		{SeriesID: "waytoolongid", Values: []float64{1}},
		{SeriesID: "bad\xff", Values: []float64{1}},
		{SeriesID: "b", UnixNanos: ns(1), Values: []float64{1, 2}},
		{SeriesID: "a", UnixNanos: ns(0, 4), Values: []float64{5, 40}},
	}
	got := d.Score(t.Context(), nil, groups)
	wantErr := []ErrorCode{ErrNone, ErrNotFinite, ErrNotFinite, ErrInvalidTimestamp, ErrInvalidTimestamp,
		ErrMissingSeriesID, ErrInvalidSeriesID, ErrInvalidSeriesID, ErrLengthMismatch, ErrLengthMismatch,
		ErrOutOfOrder, ErrNone}
	if len(got) != len(wantErr) {
		t.Fatalf("Score() returned %d verdicts, want %d", len(got), len(wantErr))
	}
	for i, v := range got {
		if v.Err != wantErr[i] {
			t.Errorf("verdict %d Err = %v, want %v", i, v.Err, wantErr[i])
		}
		if (v.Err != ErrNone) != (v.Source == SourceNone) {
			t.Errorf("verdict %d = %+v: errored verdicts and only they have no source", i, v)
		}
	}
	if got[0].Source != SourceModel || got[0].Score != 0.01 || got[11].Score != 0.4 {
		t.Errorf("valid verdicts = %+v, %+v, want model scores 0.01 and 0.4", got[0], got[11])
	}
	want := []Group{{SeriesID: "a", UnixNanos: ns(1), Values: []float64{1}}, {SeriesID: "a", UnixNanos: ns(4), Values: []float64{40}}}
	if diff := cmp.Diff(want, m.calls[0]); diff != "" {
		t.Errorf("model input mismatch (-want +got):\n%s", diff)
	}
	if v := metricValue(t, reg, "astraguard_anomaly_sample_errors_total", "not_finite"); v != 2 {
		t.Errorf("not_finite errors = %v, want 2", v)
	}
}

func TestScoreStampsMissingTimestamps(t *testing.T) {
	m := &fakeModel{}
	d, _ := newTestDetector(t, m, &fakeGate{}, Config{})
	got := d.Score(t.Context(), nil, []Group{{SeriesID: "s", Values: []float64{1, 2}}})
	for _, v := range got {
		if v.UnixNanos != t0.UnixNano() || v.Source != SourceModel {
			t.Errorf("verdict = %+v, want the receive time and a model score", v)
		}
	}
	if n := len(m.calls[0][0].UnixNanos); n != 2 {
		t.Errorf("model got %d timestamps, want 2", n)
	}
}

func TestScoreAppendsToDst(t *testing.T) {
	d, _ := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{})
	dst := []Verdict{{Score: 0.5}}
	got := d.Score(t.Context(), dst, []Group{{SeriesID: "s", Values: []float64{30}}})
	if len(got) != 2 || got[0].Score != 0.5 || got[1].Score != 0.3 {
		t.Errorf("Score(dst) = %+v, want dst kept and one verdict appended", got)
	}
}

func TestScoreConcurrent(t *testing.T) {
	d, _ := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			var buf []Verdict
			for i := range 200 {
				id := []string{"s1", "s2", "s3"}[(w+i)%3]
				buf = d.Score(context.Background(), buf[:0], []Group{{SeriesID: id, Values: []float64{float64(i)}}})
				if len(buf) != 1 || buf[0].Err != ErrNone {
					t.Errorf("verdict = %+v, want one scored verdict", buf)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := d.SeriesCount(); n != 3 {
		t.Errorf("SeriesCount() = %d, want 3", n)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(nil, &fakeGate{}, Config{}); err == nil {
		t.Error("New(nil model) error = nil, want an error")
	}
	if _, err := New(&fakeModel{}, &fakeGate{}, Config{MaxSeries: -1}); err == nil {
		t.Error("New(MaxSeries -1) error = nil, want an error")
	}
}

// TestReplaySameSamplesTwice: sending a series' samples a second time (agctl
// replay of the same CSV into the same service) answers every sample
// OUT_OF_ORDER except the last, whose timestamp equals the series' latest:
// equal is not older, so it is scored again (README "agctl").
func TestReplaySameSamplesTwice(t *testing.T) {
	d, _ := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{})
	g := Group{SeriesID: "a", UnixNanos: ns(1, 2, 3), Values: []float64{1, 2, 3}}
	d.Score(t.Context(), nil, []Group{g})
	got := d.Score(t.Context(), nil, []Group{g})
	want := []ErrorCode{ErrOutOfOrder, ErrOutOfOrder, ErrNone}
	for i, v := range got {
		if v.Err != want[i] {
			t.Errorf("second pass, sample %d: Err = %v, want %v", i, v.Err, want[i])
		}
	}
}
