package embedded_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/embedded"
	"github.com/astraguard/astraguard/model"
)

func newEngine(t testing.TB) *model.Engine {
	t.Helper()
	e, err := model.NewEngine(model.Config{WarmUp: 50}, 100)
	if err != nil {
		t.Fatalf("NewEngine() = %v", err)
	}
	return e
}

func group(id string, seed uint64, n int) detector.Group {
	r := rand.New(rand.NewPCG(seed, 7))
	g := detector.Group{SeriesID: id}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		v := 5 + math.Sin(float64(i)/20) + 0.05*r.NormFloat64()
		if i == n-10 {
			v += 6
		}
		g.UnixNanos = append(g.UnixNanos, start.Add(time.Duration(i)*time.Minute).UnixNano())
		g.Values = append(g.Values, v)
	}
	return g
}

// TestPredictMatchesEngine: out[i] is the engine's result for the i-th
// sample across groups, empty groups included.
func TestPredictMatchesEngine(t *testing.T) {
	in := []detector.Group{group("a", 1, 300), {SeriesID: "empty"}, group("b", 2, 250), group("c", 3, 1)}
	total := 551
	m := embedded.New(newEngine(t))
	got := make([]detector.Prediction, total)
	if err := m.Predict(t.Context(), in, got); err != nil {
		t.Fatalf("Predict() = %v", err)
	}
	ref := newEngine(t)
	var want []detector.Prediction
	for _, g := range in {
		res := make([]model.Result, len(g.Values))
		if err := ref.Score(g.SeriesID, g.UnixNanos, g.Values, res); err != nil {
			t.Fatalf("Score() = %v", err)
		}
		for _, r := range res {
			want = append(want, detector.Prediction{Score: r.Score, Anomaly: r.Anomaly, Warm: r.Warm})
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Predict() mismatch (-engine +embedded):\n%s", diff)
	}
	if !got[299].Warm || got[300].Warm {
		t.Errorf("Predict() Warm at 299, 300 = %v, %v; want true (series a after warm-up), false (series b's first sample)", got[299].Warm, got[300].Warm)
	}
}

// TestReproducible: the same input always gives the same scores.
func TestReproducible(t *testing.T) {
	in := []detector.Group{group("a", 1, 400), group("b", 2, 400)}
	run := func() []detector.Prediction {
		out := make([]detector.Prediction, 800)
		if err := embedded.New(newEngine(t)).Predict(t.Context(), in, out); err != nil {
			t.Fatalf("Predict() = %v", err)
		}
		return out
	}
	if diff := cmp.Diff(run(), run()); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
}

func TestPredictErrors(t *testing.T) {
	m := embedded.New(newEngine(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	out := []detector.Prediction{{Score: 42}}
	if err := m.Predict(ctx, []detector.Group{group("a", 1, 1)}, out); err != context.Canceled {
		t.Errorf("Predict(cancelled) = %v, want context.Canceled", err)
	}
	if out[0].Score != 42 {
		t.Errorf("Predict(cancelled) wrote out[0] = %+v", out[0])
	}
	if err := m.Predict(t.Context(), []detector.Group{group("a", 1, 3)}, make([]detector.Prediction, 2)); err == nil {
		t.Errorf("Predict(short out) = nil, want error")
	}
	bad := detector.Group{SeriesID: "a", UnixNanos: []int64{1}, Values: []float64{1, 2}}
	if err := m.Predict(t.Context(), []detector.Group{bad}, make([]detector.Prediction, 2)); err == nil {
		t.Errorf("Predict(missing timestamps) = nil, want error")
	}
}

func TestNilEnginePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("New(nil) did not panic")
		}
	}()
	embedded.New(nil)
}
