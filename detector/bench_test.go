package detector

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// okGate always allows; the breaker's own cost is measured in breaker/.
type okGate struct{}

func (okGate) Allow() (uint64, error) { return 0, nil }
func (okGate) Done(uint64, error)     {}

// constModel answers instantly, so the benchmarks measure the detector.
type constModel struct{}

func (constModel) Predict(_ context.Context, _ []Group, out []Prediction) error {
	for i := range out {
		out[i] = Prediction{Score: 0.1, Warm: true}
	}
	return nil
}

// BenchmarkScoreBatch100 is the detector's cost per sample for batches of
// 100 samples of one series, with a free model and gate.
func BenchmarkScoreBatch100(b *testing.B) {
	d, err := New(constModel{}, okGate{}, Config{})
	if err != nil {
		b.Fatal(err)
	}
	groups := make([]Group, 16)
	for i := range groups {
		g := Group{SeriesID: fmt.Sprintf("sat%d/voltage", i), UnixNanos: make([]int64, 100), Values: make([]float64, 100)}
		for j := range g.Values {
			g.Values[j] = 8 + float64(j%7)/10
		}
		groups[i] = g
	}
	var dst []Verdict
	ts := int64(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g := groups[i%len(groups)]
		for j := range g.UnixNanos {
			g.UnixNanos[j] = ts
			ts++
		}
		dst = d.Score(context.Background(), dst[:0], groups[i%len(groups):i%len(groups)+1])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/sample")
}

// BenchmarkSeriesMemory measures the detector's heap per tracked series
// with 100,000 series (the goal is at most 1 KiB each).
func BenchmarkSeriesMemory(b *testing.B) {
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("spacecraft-%03d/channel-%04d", i/1000, i%1000)
	}
	var perSeries float64
	for i := 0; i < b.N; i++ {
		d, err := New(constModel{}, okGate{}, Config{MaxSeries: n})
		if err != nil {
			b.Fatal(err)
		}
		before := heapInUse()
		var dst []Verdict
		for _, id := range ids {
			dst = d.Score(context.Background(), dst[:0], []Group{{SeriesID: id, UnixNanos: []int64{1}, Values: []float64{1}}})
		}
		perSeries = float64(heapInUse()-before) / n
		runtime.KeepAlive(d)
	}
	b.ReportMetric(perSeries, "bytes/series")
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
