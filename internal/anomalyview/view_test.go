package anomalyview

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/astraguard/astraguard/detector"
)

// batch builds one group of n samples of id (timestamps t0.., values 1)
// with its verdicts; flag marks the anomalous samples.
func batch(id string, t0 int64, n int, flag func(i int) bool) ([]detector.Group, []detector.Verdict) {
	g := detector.Group{SeriesID: id, UnixNanos: make([]int64, n), Values: make([]float64, n)}
	vs := make([]detector.Verdict, n)
	for i := range n {
		g.UnixNanos[i], g.Values[i] = t0+int64(i), 1
		vs[i] = detector.Verdict{UnixNanos: t0 + int64(i), Score: 0.1, Source: detector.SourceModel,
			Explain: detector.Explanation{HasBand: true, Expected: 1, Lower: 0.5, Upper: 1.5}}
		if flag(i) {
			g.Values[i] = 9
			vs[i].Anomaly, vs[i].Score, vs[i].Explain.Mechanism = true, 0.99, detector.MechanismShift
		}
	}
	return []detector.Group{g}, vs
}

func never(int) bool  { return false }
func always(int) bool { return true }

func newView(t testing.TB, cfg Config) *View {
	t.Helper()
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func feed(t *testing.T, v *View, after uint64) ([]feedJSON, uint64) {
	t.Helper()
	data, last := v.Feed(after)
	var out []feedJSON
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("Feed(%d) = %s: %v", after, data, err)
	}
	return out, last
}

func contextOf(t *testing.T, v *View, id string) (contextJSON, bool) {
	t.Helper()
	data, ok := v.Context(id)
	var c contextJSON
	if ok {
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("Context(%q) = %s: %v", id, data, err)
		}
	}
	return c, ok
}

// TestBoundsUnderManyFlaggedSeries floods the view with far more flagged
// series and anomalies than it keeps: the series, each series' samples
// and the feed stay within their bounds, the series flagged last are the
// ones kept, and the feed holds the newest anomalies, newest first.
func TestBoundsUnderManyFlaggedSeries(t *testing.T) {
	const series, samples, feedLen = 16, 10, 25
	v := newView(t, Config{Series: series, Samples: samples, Feed: feedLen})
	ts := int64(0)
	for i := range 1000 {
		g, vs := batch(fmt.Sprintf("s%d", i), ts, 3*samples, func(j int) bool { return j%7 == 0 })
		ts += int64(3 * samples)
		v.ObserveVerdicts(g, vs)
	}
	v.mu.RLock()
	if n := len(v.series); n != series {
		t.Errorf("kept series = %d, want %d", n, series)
	}
	n, prev := 0, (*entry)(nil)
	for e := v.head; e != nil; e = e.next {
		n++
		if e.size > samples || len(e.ring) != samples {
			t.Errorf("series %s holds %d of %d samples, want at most %d", e.id, e.size, len(e.ring), samples)
		}
		if e.prev != prev {
			t.Errorf("series %s: broken list", e.id)
		}
		prev = e
	}
	v.mu.RUnlock()
	if n != series {
		t.Errorf("list length = %d, want %d", n, series)
	}
	for i := 1000 - series; i < 1000; i++ {
		if _, ok := contextOf(t, v, fmt.Sprintf("s%d", i)); !ok {
			t.Errorf("s%d, flagged among the last %d, is not kept", i, series)
		}
	}
	if _, ok := contextOf(t, v, fmt.Sprintf("s%d", 1000-series-1)); ok {
		t.Errorf("s%d, flagged before the last %d, is still kept", 1000-series-1, series)
	}
	got, last := feed(t, v, 0)
	if len(got) != feedLen {
		t.Fatalf("feed holds %d, want %d", len(got), feedLen)
	}
	for i, f := range got {
		if f.Seq != last-uint64(i) {
			t.Errorf("feed[%d].seq = %d, want %d (newest first)", i, f.Seq, last-uint64(i))
		}
	}
	if got[0].Series != "s999" || got[0].Mechanism != "shift" || got[0].Band == nil || got[0].Value != 9 {
		t.Errorf("feed[0] = %+v, want s999's last anomaly with its band", got[0])
	}
	if more, l := feed(t, v, last); len(more) != 0 || l != last {
		t.Errorf("Feed(%d) = %d entries, last %d; want none, %d", last, len(more), l, last)
	}
}

// TestContextFollowsKeptSeries: an unflagged series is not kept; a flagged
// one keeps its batch and every later sample (flags, band, heuristic
// marks), at most Samples of them.
func TestContextFollowsKeptSeries(t *testing.T) {
	v := newView(t, Config{Samples: 8})
	v.ObserveVerdicts(batch("quiet", 0, 5, never))
	if _, ok := contextOf(t, v, "quiet"); ok {
		t.Fatal("a series never flagged is kept")
	}
	v.ObserveVerdicts(batch("spiky", 0, 5, func(i int) bool { return i == 4 }))
	g, vs := batch("spiky", 5, 6, never)
	vs[0].Source, vs[0].Reason = detector.SourceHeuristic, detector.ReasonBreakerOpen
	v.ObserveVerdicts(g, vs)
	c, ok := contextOf(t, v, "spiky")
	if !ok || len(c.Points) != 8 || c.Capacity != 8 {
		t.Fatalf("context = %+v, %v; want the last 8 samples", c, ok)
	}
	if c.Points[0].T != 3e-6 || !c.Points[1].Anomaly || c.Points[1].V != 9 || !c.Points[2].Heuristic || c.Points[3].Heuristic {
		t.Errorf("points = %+v, want samples 3..10 with the flag at 4 and the heuristic at 5", c.Points)
	}
	if c.Points[0].Band == nil || *c.Points[0].Band != [3]float64{1, 0.5, 1.5} {
		t.Errorf("band = %v, want [1 0.5 1.5]", c.Points[0].Band)
	}
}

// TestTraffic counts verdicts by source and fallback reason, errors apart.
func TestTraffic(t *testing.T) {
	v := newView(t, Config{Off: true})
	g, vs := batch("a", 0, 6, always)
	vs[1].Source, vs[1].Reason = detector.SourceHeuristic, detector.ReasonBreakerOpen
	vs[2].Source, vs[2].Reason = detector.SourceHeuristic, detector.ReasonWarmingUp
	vs[3].Source, vs[3].Err = detector.SourceNone, detector.ErrNotFinite
	v.ObserveVerdicts(g, vs)
	got := map[string]uint64{}
	for name, n := range v.Traffic() {
		got[name] = n
	}
	want := map[string]uint64{"model": 3, "heuristic: breaker_open": 1, "heuristic: warming_up": 1, "error": 1}
	for name, n := range got {
		if n != want[name] {
			t.Errorf("traffic %q = %d, want %d", name, n, want[name])
		}
	}
	if _, ok := got["heuristic: model_timeout"]; !ok {
		t.Error("no category for model_timeout fallbacks")
	}
	if data, _ := v.Feed(0); data != nil {
		t.Errorf("Feed with the view off = %s, want nil", data)
	}
	if _, ok := v.Context("a"); ok {
		t.Error("the view keeps context while off")
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{{Series: -1}, {Samples: -1}, {Feed: -1}, {Series: 1 << 12, Samples: 1 << 12}, {Feed: maxFeed + 1}, {Samples: math.MaxInt}, {Series: math.MaxInt}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) = nil error, want one", c)
		}
	}
	v := newView(t, Config{})
	if got := v.Sizes(); got.Series != DefaultSeries || got.Samples != DefaultSamples || got.Feed != DefaultFeed {
		t.Errorf("defaults = %+v", got)
	}
}

// TestConcurrent hammers a small view from several writers and readers
// (run with -race); the bounds hold afterwards.
func TestConcurrent(t *testing.T) {
	v := newView(t, Config{Series: 4, Samples: 16, Feed: 8})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				id := fmt.Sprintf("w%d-s%d", w, i%10)
				v.ObserveVerdicts(batch(id, int64(i*8), 8, func(j int) bool { return (i+j)%5 == 0 }))
			}
		})
	}
	wg.Go(func() {
		after := uint64(0)
		for range 300 {
			_, after = v.Feed(after)
			v.Context("w0-s1")
			for range v.Traffic() {
			}
		}
	})
	wg.Wait()
	v.mu.RLock()
	defer v.mu.RUnlock()
	if len(v.series) > 4 {
		t.Errorf("kept %d series, want at most 4", len(v.series))
	}
	for _, e := range v.series {
		if e.size > 16 {
			t.Errorf("series %s holds %d samples, want at most 16", e.id, e.size)
		}
	}
}
