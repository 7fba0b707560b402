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
