//go:build !race

// The race detector makes sync.Pool drop items at random, so the
// allocation count is only meaningful without it.

package embedded_test

import (
	"testing"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/embedded"
)

func TestPredictDoesNotAllocate(t *testing.T) {
	m := embedded.New(newEngine(t))
	in := []detector.Group{group("a", 1, 64), group("b", 2, 64)}
	out := make([]detector.Prediction, 128)
	if err := m.Predict(t.Context(), in, out); err != nil { // create the series
		t.Fatalf("Predict() = %v", err)
	}
	ctx := t.Context()
	allocs := testing.AllocsPerRun(100, func() { _ = m.Predict(ctx, in, out) })
	if allocs != 0 {
		t.Errorf("Predict() allocates %v times per call in steady state, want 0", allocs)
	}
}

func BenchmarkPredict(b *testing.B) {
	m := embedded.New(newEngine(b))
	in := []detector.Group{group("a", 1, 64), group("b", 2, 64)}
	out := make([]detector.Prediction, 128)
	for b.Loop() {
		_ = m.Predict(b.Context(), in, out)
	}
}
