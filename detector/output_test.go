package detector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fixedModel answers every sample with pred.
type fixedModel struct{ pred Prediction }

func (m fixedModel) Predict(_ context.Context, in []Group, out []Prediction) error {
	n, err := BatchSize(in, out)
	for i := range n {
		out[i] = m.pred
	}
	return err
}

func TestScoreInvalidModelOutput(t *testing.T) {
	for _, score := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.1, 1.5, 7} {
		g := &fakeGate{}
		d, reg := newTestDetector(t, fixedModel{Prediction{Score: score, Warm: true}}, g, Config{})
		got := d.Score(t.Context(), nil, []Group{{SeriesID: "sat1/pressure", UnixNanos: ns(1, 2), Values: []float64{10, 11}}})
		for i, v := range got {
			if v.Source != SourceHeuristic || v.Reason != ReasonModelInvalidOutput {
				t.Errorf("score %v: verdict %d = %+v, want heuristic with reason model_invalid_output", score, i, v)
			}
		}
		if len(g.done) != 1 || !errors.Is(g.done[0], ErrInvalidOutput) {
			t.Errorf("score %v: gate outcomes = %v, want one wrapping ErrInvalidOutput (a model failure)", score, g.done)
		}
		if v := testutil.ToFloat64(d.metrics.invalidOutputs); v != 1 {
			t.Errorf("score %v: invalid outputs = %v, want 1", score, v)
		}
		if v := metricValue(t, reg, "astraguard_anomaly_detections_total", "model"); v != 0 {
			t.Errorf("score %v: model detections = %v, want 0", score, v)
		}
	}
	// The bounds themselves are valid.
	for _, score := range []float64{0, 1} {
		d, _ := newTestDetector(t, fixedModel{Prediction{Score: score, Warm: true}}, &fakeGate{}, Config{})
		if v := d.Score(t.Context(), nil, []Group{{SeriesID: "a", UnixNanos: ns(1), Values: []float64{1}}})[0]; v.Source != SourceModel || v.Score != score {
			t.Errorf("score %v: verdict = %+v, want the model's", score, v)
		}
	}
}

// TestScoreLimitViolationOneRule: a limit violation scores 1 and is an
// anomaly whichever detector answers.
func TestScoreLimitViolationOneRule(t *testing.T) {
	in := []Group{{SeriesID: "sat1/voltage", UnixNanos: ns(1, 2), Values: []float64{8, 12}}} // limit [7, 9]
	for _, tt := range []struct {
		name string
		gate *fakeGate
		src  Source
	}{
		{"model", &fakeGate{}, SourceModel},
		{"heuristic", &fakeGate{rejectErr: errors.New("open")}, SourceHeuristic},
	} {
		d, _ := newTestDetector(t, fixedModel{Prediction{Score: 0.2, Warm: true}}, tt.gate, Config{})
		got := d.Score(t.Context(), nil, in)
		if v := got[1]; v.Source != tt.src || v.Score != 1 || !v.Anomaly || !v.LimitViolation {
			t.Errorf("%s path: violation verdict = %+v, want score 1, anomaly, limit violation from %v", tt.name, v, tt.src)
		}
		if v := got[0]; v.Anomaly || v.LimitViolation {
			t.Errorf("%s path: in-limit verdict = %+v, want no anomaly", tt.name, v)
		}
	}
}

// TestModelFailureLogRateLimited: failures are logged at WARN, one line per
// interval with a count of the lines left out; a caller that left first is
// not the model's fault and goes at DEBUG.
func TestModelFailureLogRateLimited(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{t0}
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, _ := newTestDetector(t, &fakeModel{err: errors.New("rejected")}, &fakeGate{}, Config{}, WithClock(clock), WithLogger(logger))
	score := func(ctx context.Context) {
		d.Score(ctx, nil, []Group{{SeriesID: "a", Values: []float64{1}}})
	}
	for range 5 {
		score(t.Context())
	}
	clock.t = clock.t.Add(modelErrorLogInterval + time.Second)
	score(t.Context())
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	score(cancelled)

	type line struct {
		Level, Msg, Reason string
		Suppressed         *int `json:"suppressed_since_last"`
	}
	var got []line
	for l := range strings.Lines(buf.String()) {
		var ln line
		if err := json.Unmarshal([]byte(l), &ln); err != nil {
			t.Fatal(err)
		}
		got = append(got, ln)
	}
	if len(got) != 3 || got[0].Level != "WARN" || got[1].Level != "WARN" || got[2].Level != "DEBUG" ||
		got[0].Reason != "model_error" || got[1].Suppressed == nil || *got[1].Suppressed != 4 {
		t.Errorf("log lines = %+v, want WARN, WARN with 4 suppressed, DEBUG:\n%s", got, buf.String())
	}
}

// TestMetricsMeanTheirNames checks on a fresh registry that latency counts
// only the batches a detector answered, that fallback activations include
// warm-up, and that a batch with no valid sample observes no latency.
func TestMetricsMeanTheirNames(t *testing.T) {
	d, reg := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{})
	type counts struct{ heurLat, modelLat, activations, detHeur, detModel uint64 }
	read := func() counts {
		return counts{
			heurLat:     histCount(t, reg, "heuristic"),
			modelLat:    histCount(t, reg, "model"),
			activations: uint64(testutil.ToFloat64(d.metrics.fallbackBatches)),
			detHeur:     uint64(metricValue(t, reg, "astraguard_anomaly_detections_total", "heuristic")),
			detModel:    uint64(metricValue(t, reg, "astraguard_anomaly_detections_total", "model")),
		}
	}
	steps := []struct {
		name string
		in   []Group
		want counts
	}{
		{"model answered all", []Group{{SeriesID: "a", UnixNanos: ns(1, 2), Values: []float64{1, 2}}}, counts{0, 1, 0, 0, 2}},
		{"one sample warming up", []Group{{SeriesID: "a", UnixNanos: ns(3), Values: []float64{3}}, {SeriesID: "cold/b", UnixNanos: ns(3), Values: []float64{3}}},
			counts{1, 2, 1, 1, 3}},
		{"all NaN", []Group{{SeriesID: "a", UnixNanos: ns(4, 5), Values: []float64{math.NaN(), math.NaN()}}}, counts{1, 2, 1, 1, 3}},
	}
	for _, s := range steps {
		d.Score(t.Context(), nil, s.in)
		if got := read(); got != s.want {
			t.Errorf("after %q: %+v, want %+v", s.name, got, s.want)
		}
	}
	d.gate = &fakeGate{rejectErr: errors.New("open")}
	d.Score(t.Context(), nil, []Group{{SeriesID: "a", UnixNanos: ns(6), Values: []float64{6}}})
	if got, want := read(), (counts{2, 2, 2, 2, 3}); got != want {
		t.Errorf("after a breaker-open batch: %+v, want %+v", got, want)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("GatherAndLint() = %v, %v", problems, err)
	}
}

func histCount(t *testing.T, reg *prometheus.Registry, detector string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "astraguard_anomaly_detection_latency_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsMatch(m, []string{detector}) {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	t.Fatalf("no latency series for %s", detector)
	return 0
}

// TestModelStateResetIsCountedAndWarmsUp: a prediction that reports the
// model discarded the series' state (model.Result.Reset) is answered as a
// series warming up again, counted, and is not a model failure.
func TestModelStateResetIsCountedAndWarmsUp(t *testing.T) {
	g := &fakeGate{}
	d, _ := newTestDetector(t, fixedModel{Prediction{Reset: true}}, g, Config{})
	got := d.Score(t.Context(), nil, []Group{{SeriesID: "sat1/pressure", UnixNanos: ns(1, 2), Values: []float64{10, 11}}})
	for i, v := range got {
		if v.Source != SourceHeuristic || v.Reason != ReasonWarmingUp {
			t.Errorf("verdict %d = %+v, want heuristic with reason warming_up", i, v)
		}
	}
	if len(g.done) != 1 || g.done[0] != nil {
		t.Errorf("gate outcomes = %v, want one success", g.done)
	}
	if v := testutil.ToFloat64(d.metrics.stateResets); v != 2 {
		t.Errorf("state resets = %v, want 2", v)
	}
}
