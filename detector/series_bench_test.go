package detector

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/model"
)

// The benchmarks below have twins of the same names in
// scripts/lib/state_base_bench_test.go.txt, written against the old
// two-table layout, so that `make bench-state` compares the two with
// benchstat in one run.

func newBenchEmbedded(b *testing.B, maxSeries int) *Detector {
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := NewEmbedded(tmpl, okGate{}, Config{MaxSeries: maxSeries})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkScoreEmbedded is the detector's cost per sample with the
// embedded model, for batches of 100 samples of one series over 16 warm
// series.
func BenchmarkScoreEmbedded(b *testing.B) {
	benchScore(b, newBenchEmbedded(b, 1000))
}

// BenchmarkServiceMemory is the live heap per series after GC with
// 100,000 series each sent one sample: everything the service keeps
// (entry, heuristic, model state, id, table overhead), for the embedded
// model and for a remote one (the model's state then lives elsewhere).
func BenchmarkServiceMemory(b *testing.B) {
	b.Run("embedded", func(b *testing.B) {
		benchMemory(b, func() *Detector { return newBenchEmbedded(b, 100_000) })
	})
	b.Run("remote", func(b *testing.B) {
		benchMemory(b, func() *Detector {
			d, err := New(constModel{}, okGate{}, Config{MaxSeries: 100_000})
			if err != nil {
				b.Fatal(err)
			}
			return d
		})
	})
}

func benchScore(b *testing.B, d *Detector) {
	groups := make([]Group, 16)
	for i := range groups {
		g := Group{SeriesID: fmt.Sprintf("sat%d/voltage", i), UnixNanos: make([]int64, 100), Values: make([]float64, 100)}
		for j := range g.Values {
			g.Values[j] = 8 + float64(j%7)/10 + float64(j%13)/50
		}
		groups[i] = g
	}
	var dst []Verdict
	ts := int64(1)
	step := func(i int) {
		g := groups[i%len(groups)]
		for j := range g.UnixNanos {
			g.UnixNanos[j] = ts
			ts++
		}
		dst = d.Score(context.Background(), dst[:0], groups[i%len(groups):i%len(groups)+1])
	}
	for i := range 16 * 10 { // every series past the model's warm-up
		step(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step(i)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/sample")
}

func benchMemory(b *testing.B, newDet func() *Detector) {
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("spacecraft-%03d/channel-%04d", i/1000, i%1000)
	}
	var perSeries float64
	for i := 0; i < b.N; i++ {
		before := heapInUse()
		d := newDet()
		var dst []Verdict
		for _, id := range ids {
			dst = d.Score(context.Background(), dst[:0], []Group{{SeriesID: id, UnixNanos: []int64{1}, Values: []float64{1}}})
		}
		perSeries = float64(heapInUse()-before) / n
		runtime.KeepAlive(d)
	}
	b.ReportMetric(perSeries, "bytes/series")
}

// BenchmarkScoreWide is the detector's cost per sample in the shape
// `make bench-service` sends: each call 10 series of 10 samples, drawn
// round robin from 1000 warm series named as agload names them, with the
// default policies and the embedded model.
func BenchmarkScoreWide(b *testing.B) { benchWide(b, okGate{}) }

// BenchmarkScoreWideOpen is BenchmarkScoreWide with the breaker open:
// the gate refuses every call, so the heuristic answers every sample, as
// on bench-service's service(heuristic).
func BenchmarkScoreWideOpen(b *testing.B) { benchWide(b, openGate{}) }

// BenchmarkScoreWideSensitivity is BenchmarkScoreWide with every series
// under a policy that moves its threshold by a sensitivity (the default
// policies at 2, every other channel at 0.5), model path and heuristic,
// with 10 samples per series in a call and with 1 (where per-group work
// weighs most).
func BenchmarkScoreWideSensitivity(b *testing.B) {
	ps := DefaultPolicies()
	for i := range ps {
		ps[i].Sensitivity = 2
	}
	ps = append(ps, Policy{Name: "rest", Globs: []string{"*"}, Sensitivity: 0.5})
	for _, n := range []int{10, 1} {
		b.Run(fmt.Sprintf("model/per-series=%d", n), func(b *testing.B) { benchWidePolicies(b, okGate{}, ps, n) })
		b.Run(fmt.Sprintf("heuristic/per-series=%d", n), func(b *testing.B) { benchWidePolicies(b, openGate{}, ps, n) })
	}
}

// openGate refuses every model call, as an open breaker does.
type openGate struct{}

var errGateOpen = errors.New("open")

func (openGate) Allow() (uint64, error) { return 0, errGateOpen }
func (openGate) Done(uint64, error)     {}

func benchWide(b *testing.B, g Gate) { benchWidePolicies(b, g, DefaultPolicies(), 10) }

// benchWidePolicies is benchWide under pols, with perSeries samples per
// series in a call.
func benchWidePolicies(b *testing.B, g Gate, pols []Policy, perSeries int) {
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := NewEmbedded(tmpl, g, Config{MaxSeries: 1000})
	if err != nil {
		b.Fatal(err)
	}
	ps, err := NewPolicies(pols)
	if err != nil {
		b.Fatal(err)
	}
	d.SetPolicies(ps)
	channels := []string{"voltage", "temperature", "gyro", "current", "pressure", "rate", "power", "torque"}
	const nSeries, perCall = 1000, 10
	groups := make([]Group, nSeries)
	for i := range groups {
		groups[i] = Group{
			SeriesID:  fmt.Sprintf("sat%03d/%s", i/len(channels), channels[i%len(channels)]),
			UnixNanos: make([]int64, perSeries), Values: make([]float64, perSeries),
		}
	}
	var dst []Verdict
	var k int64 // samples sent to each series so far: one a second
	call := func(i int) {
		first := (i * perCall) % nSeries
		batch := groups[first : first+perCall]
		for _, g := range batch {
			for j := range g.Values {
				t := k + int64(j)
				g.UnixNanos[j] = (t + 1) * int64(time.Second)
				g.Values[j] = 8 + float64(t%7)/10 + float64((t+int64(first))%13)/50
			}
		}
		if first+perCall == nSeries {
			k += int64(perSeries)
		}
		dst = d.Score(context.Background(), dst[:0], batch)
	}
	for i := range nSeries / perCall * 400 / perSeries { // every series past the model's warm-up
		call(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		call(i)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perCall*perSeries), "ns/sample")
}
