package anomalyview

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/internal/model"
)

type okGate struct{}

func (okGate) Allow() (uint64, error) { return 0, nil }
func (okGate) Done(uint64, error)     {}

// BenchmarkObserve is the per-sample cost of scoring with the embedded
// model and showing the verdicts to the view, against scoring alone
// ("none"): "off" counts only the traffic (--anomaly-view-series=0);
// "unkept" has the view on with 256 other series kept, none of the
// scored ones (the common case: one lookup per group); "kept" has every
// scored series kept, so each sample is copied into its context. Batches
// of 100 samples of one series, and of 1 (frames: one group per sample).
func BenchmarkObserve(b *testing.B) {
	for _, size := range []int{100, 1} {
		for _, mode := range []string{"none", "off", "unkept", "kept"} {
			b.Run(fmt.Sprintf("batch=%d/view=%s", size, mode), func(b *testing.B) { benchObserve(b, size, mode) })
		}
	}
}

// benchSetup returns an embedded detector with the default model and, but
// for mode "none", a view: "off" turned off, "unkept" holding
// DefaultSeries series other than the benchmarks' sat<i>/voltage, "kept"
// holding those.
func benchSetup(b *testing.B, mode string) (*detector.Detector, *View) {
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := detector.NewEmbedded(tmpl, okGate{}, detector.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if mode == "none" {
		return d, nil
	}
	v := newView(b, Config{Off: mode == "off"})
	if mode == "unkept" || mode == "kept" {
		prefix := "other"
		if mode == "kept" {
			prefix = "sat"
		}
		for i := range DefaultSeries {
			v.ObserveVerdicts(batch(fmt.Sprintf("%s%d/voltage", prefix, i), 0, 1, always))
		}
	}
	return d, v
}

func benchObserve(b *testing.B, size int, mode string) {
	d, v := benchSetup(b, mode)
	groups := make([]detector.Group, 64)
	for i := range groups {
		g := detector.Group{SeriesID: fmt.Sprintf("sat%d/voltage", i), UnixNanos: make([]int64, size), Values: make([]float64, size)}
		groups[i] = g
	}
	var dst []detector.Verdict
	ts := int64(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g := groups[i%len(groups)]
		for j := range g.UnixNanos {
			g.UnixNanos[j] = ts
			g.Values[j] = 8 + float64((ts+int64(i%len(groups)))%7)/10
			ts++
		}
		in := groups[i%len(groups) : i%len(groups)+1]
		dst = d.Score(context.Background(), dst[:0], in)
		if v != nil {
			v.ObserveVerdicts(in, dst)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/sample")
}

// BenchmarkMemory fills a default view (256 series x 240 samples, a full
// feed) and reports its heap.
func BenchmarkMemory(b *testing.B) {
	var bytes float64
	for i := 0; i < b.N; i++ {
		before := heapInUse()
		v := newView(b, Config{})
		for s := range 4 * DefaultSeries {
			v.ObserveVerdicts(batch(fmt.Sprintf("spacecraft-%03d/channel-%04d", s/100, s), 0, DefaultSamples, always))
		}
		bytes = float64(heapInUse() - before)
		runtime.KeepAlive(v)
	}
	b.ReportMetric(bytes/(1<<20), "MiB")
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkObserveOnly is the view's own per-sample cost, on verdicts the
// embedded detector produced once beforehand: set it against
// BenchmarkObserve/view=none (the detector's own cost per sample).
func BenchmarkObserveOnly(b *testing.B) {
	for _, size := range []int{100, 1} {
		for _, mode := range []string{"off", "unkept", "kept"} {
			b.Run(fmt.Sprintf("batch=%d/view=%s", size, mode), func(b *testing.B) { benchObserveOnly(b, size, mode) })
		}
	}
}

func benchObserveOnly(b *testing.B, size int, mode string) {
	d, v := benchSetup(b, mode)
	// 64 series' worth of batches, scored once (after a warm-up).
	type scored struct {
		in  []detector.Group
		out []detector.Verdict
	}
	var batches []scored
	ts := int64(1)
	for round := range 10 {
		for i := range 64 {
			g := detector.Group{SeriesID: fmt.Sprintf("sat%d/voltage", i), UnixNanos: make([]int64, max(size, 50)), Values: make([]float64, max(size, 50))}
			for j := range g.Values {
				g.UnixNanos[j], g.Values[j] = ts, 8+float64((ts+int64(i))%7)/10
				ts++
			}
			in := []detector.Group{g}
			out := d.Score(context.Background(), nil, in)
			if round == 9 {
				in[0].UnixNanos, in[0].Values, out = in[0].UnixNanos[:size], in[0].Values[:size], out[:size]
				batches = append(batches, scored{in, out})
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := batches[i%len(batches)]
		v.ObserveVerdicts(s.in, s.out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/sample")
}
