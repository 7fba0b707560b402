package model

import (
	"math"
	"testing"
)

// BenchmarkUpdate reports the per-sample cost of one warm Detector and its
// state size.
func BenchmarkUpdate(b *testing.B) {
	d := mustDetector(b, Config{})
	var n noise
	vs := make([]float64, 4096)
	for i := range vs {
		vs[i] = 100 + 10*math.Sin(float64(i)/30) + n.next()
	}
	for i := range 1000 {
		d.Update(int64(i)*fiveMin, vs[i%len(vs)])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Update(int64(i)*fiveMin, vs[i&(len(vs)-1)])
	}
	// After the loop: ResetTimer drops metrics reported before it.
	b.ReportMetric(float64(StateBytes), "state-bytes")
}

// BenchmarkEngineScore reports ns per sample through the Engine with
// batches of 64 samples spread over 1000 series.
func BenchmarkEngineScore(b *testing.B) {
	const batchLen, series = 64, 1000
	e, err := NewEngine(Config{}, series)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, series)
	for i := range ids {
		ids[i] = "sat/" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	ts, vs, out := batch(0, batchLen)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Score(ids[i%series], ts, vs, out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchLen), "ns/sample")
}
