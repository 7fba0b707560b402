package detector

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/store"
)

func TestFullTableEvictsInsteadOfLockingOut(t *testing.T) {
	d, reg := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{MaxSeries: 2})
	got := d.Score(t.Context(), nil, []Group{
		{SeriesID: "a", Values: []float64{1}}, {SeriesID: "b", Values: []float64{1}},
		{SeriesID: "c", Values: []float64{1}}, {SeriesID: "a", Values: []float64{2}},
	})
	codes := []ErrorCode{got[0].Err, got[1].Err, got[2].Err, got[3].Err}
	if diff := cmp.Diff([]ErrorCode{ErrNone, ErrNone, ErrNone, ErrNone}, codes); diff != "" {
		t.Errorf("error codes mismatch (-want +got):\n%s", diff)
	}
	if n := d.SeriesCount(); n != 2 {
		t.Errorf("SeriesCount() = %d, want 2", n)
	}
	if v := metricValue(t, reg, "astraguard_series"); v != 2 {
		t.Errorf("astraguard_series = %v, want 2", v)
	}
	// c evicted a (least recently used), then a's return evicted b.
	if v := metricValue(t, reg, "astraguard_series_evicted_total", "capacity"); v != 2 {
		t.Errorf(`astraguard_series_evicted_total{reason="capacity"} = %v, want 2`, v)
	}
	if v := metricValue(t, reg, "astraguard_series_evicted_total", "ttl"); v != 0 {
		t.Errorf(`astraguard_series_evicted_total{reason="ttl"} = %v, want 0`, v)
	}
}

// TestEmptyGroupsTakeNoEntry: a group without samples gets no verdict and
// takes no entry in the series table, so a request of 100,000 empty
// series (a few bytes each on the wire) cannot evict the series that
// really send samples.
func TestEmptyGroupsTakeNoEntry(t *testing.T) {
	d, reg := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{MaxSeries: 2})
	d.Score(t.Context(), nil, []Group{{SeriesID: "kept", Values: []float64{1}}})
	got := d.Score(t.Context(), nil, []Group{
		{SeriesID: "e1"}, {SeriesID: "e2"}, {SeriesID: "e3", UnixNanos: []int64{t0.UnixNano()}},
	})
	if len(got) != 0 {
		t.Errorf("Score(empty groups) = %d verdicts, want 0", len(got))
	}
	if n := d.SeriesCount(); n != 1 {
		t.Errorf("SeriesCount() = %d, want 1 (only the series with a sample)", n)
	}
	if v := metricValue(t, reg, "astraguard_series_evicted_total", "capacity"); v != 0 {
		t.Errorf(`astraguard_series_evicted_total{reason="capacity"} = %v, want 0`, v)
	}
}

func TestIdleSeriesExpire(t *testing.T) {
	clk := &fakeClock{t0}
	d, reg := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{SeriesTTL: time.Hour}, WithClock(clk))
	d.Score(t.Context(), nil, []Group{{SeriesID: "idle", Values: []float64{1}}})
	clk.t = t0.Add(30 * time.Minute)
	d.Score(t.Context(), nil, []Group{{SeriesID: "busy", Values: []float64{1}}})

	if n := d.Sweep(t0.Add(61 * time.Minute)); n != 1 {
		t.Errorf("Sweep() = %d, want 1 (idle, not busy)", n)
	}
	if n := d.SeriesCount(); n != 1 {
		t.Errorf("SeriesCount() = %d, want 1", n)
	}
	if got := d.SeriesEvicted(store.ReasonTTL); got != 1 {
		t.Errorf("SeriesEvicted(ttl) = %d, want 1", got)
	}
	if v := metricValue(t, reg, "astraguard_series_evicted_total", "ttl"); v != 1 {
		t.Errorf(`astraguard_series_evicted_total{reason="ttl"} = %v, want 1`, v)
	}
}

// TestFutureSampleCannotLockOutASeries: a sample stamped beyond the skew
// is rejected without moving the watermark, and one within it holds the
// series' receive-time samples back for at most the skew.
func TestFutureSampleCannotLockOutASeries(t *testing.T) {
	clk := &fakeClock{t0}
	d, _ := newTestDetector(t, &fakeModel{}, &fakeGate{}, Config{}, WithClock(clk))
	skew := DefaultMaxClockSkew
	score := func(stamp ...int64) Verdict {
		t.Helper()
		got := d.Score(t.Context(), nil, []Group{{SeriesID: "s", UnixNanos: stamp, Values: []float64{1}}})
		return got[0]
	}

	if v := score(t0.Add(skew + 1).UnixNano()); v.Err != ErrInvalidTimestamp {
		t.Fatalf("sample %v ahead: Err = %v, want ErrInvalidTimestamp", skew+1, v.Err)
	}
	if v := score(); v.Err != ErrNone {
		t.Fatalf("server-stamped sample after a rejected future one: Err = %v, want none", v.Err)
	}
	if v := score(t0.Add(skew).UnixNano()); v.Err != ErrNone {
		t.Fatalf("sample %v ahead: Err = %v, want none", skew, v.Err)
	}
	if v := score(); v.Err != ErrOutOfOrder {
		t.Fatalf("server-stamped sample behind the watermark: Err = %v, want ErrOutOfOrder", v.Err)
	}
	clk.t = t0.Add(skew)
	if v := score(); v.Err != ErrNone {
		t.Fatalf("server-stamped sample once the clock reaches the watermark: Err = %v, want none", v.Err)
	}
}

// blockingModel holds its first Predict until release is closed, so a test
// can send a second batch while the first is at the model.
type blockingModel struct {
	fakeModel
	entered chan struct{}
	release chan struct{}
	first   bool
}

func (m *blockingModel) Predict(ctx context.Context, in []Group, out []Prediction) error {
	m.mu.Lock()
	first := !m.first
	m.first = true
	m.mu.Unlock()
	if first {
		close(m.entered)
		<-m.release
	}
	return m.fakeModel.Predict(ctx, in, out)
}

// TestRemoteModelSeesOneSeriesInOrder: while one call has a series at the
// remote model, a second stream's samples of that series are answered by
// the heuristic (ReasonSeriesBusy) instead of racing to the model, so the
// model never receives a series' samples out of order.
func TestRemoteModelSeesOneSeriesInOrder(t *testing.T) {
	m := &blockingModel{entered: make(chan struct{}), release: make(chan struct{})}
	d, reg := newTestDetector(t, m, &fakeGate{}, Config{ModelTimeout: time.Hour})
	first := make(chan []Verdict)
	go func() {
		first <- d.Score(context.Background(), nil, []Group{{SeriesID: "s", UnixNanos: ns(1), Values: []float64{10}}})
	}()
	<-m.entered

	got := d.Score(t.Context(), nil, []Group{
		{SeriesID: "s", UnixNanos: ns(2), Values: []float64{20}},
		{SeriesID: "other", UnixNanos: ns(2), Values: []float64{30}},
	})
	want := []Verdict{
		{UnixNanos: ns(2)[0], Source: SourceHeuristic, Reason: ReasonSeriesBusy},
		{UnixNanos: ns(2)[0], Score: 0.3, Source: SourceModel},
	}
	// The heuristic's band (around its mean of the first sample, 10) is
	// not what this test is about.
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Explanation{}, "HasBand", "Expected", "Lower", "Upper")); diff != "" {
		t.Errorf("Score() while s is at the model mismatch (-want +got):\n%s", diff)
	}
	close(m.release)
	if v := <-first; v[0].Source != SourceModel {
		t.Errorf("first call's verdict = %+v, want the model's", v[0])
	}
	d.Score(t.Context(), nil, []Group{{SeriesID: "s", UnixNanos: ns(3), Values: []float64{40}}})

	var seen []int64
	for _, call := range m.calls {
		for _, g := range call {
			if g.SeriesID == "s" {
				seen = append(seen, g.UnixNanos...)
			}
		}
	}
	if diff := cmp.Diff([]int64{ns(1)[0], ns(3)[0]}, seen); diff != "" {
		t.Errorf("timestamps of s at the model mismatch (-want +got):\n%s", diff)
	}
	if v := metricValue(t, reg, "astraguard_anomaly_fallback_samples_total", "series_busy"); v != 1 {
		t.Errorf(`fallback samples{reason="series_busy"} = %v, want 1`, v)
	}
}

// holdGate holds the first Allow until release is closed, after closing
// held: that call has stamped its samples and waits before its series.
type holdGate struct {
	fakeGate
	calls         atomic.Int32
	held, release chan struct{}
}

func (g *holdGate) Allow() (uint64, error) {
	if g.calls.Add(1) == 1 {
		close(g.held)
		<-g.release
	}
	return g.fakeGate.Allow()
}

// lockedClock is a fakeClock that two Score calls may read at once.
type lockedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lockedClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *lockedClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestServerStampsNeverOutOfOrder: samples sent without timestamps are
// accepted however calls for one series interleave. A call that stamped
// its samples and then reached the series after a later call had (two
// streams writing one series) got OUT_OF_ORDER for samples it had
// stamped itself: 159 of 2957 requests with 4 concurrent writers.
func TestServerStampsNeverOutOfOrder(t *testing.T) {
	for name, m := range map[string]Model{"remote": &fakeModel{}, "embedded": nil} {
		t.Run(name, func(t *testing.T) {
			clk := &lockedClock{t: t0}
			g := &holdGate{held: make(chan struct{}), release: make(chan struct{})}
			var d *Detector
			if m == nil {
				tmpl, err := model.NewTemplate(model.Config{})
				if err != nil {
					t.Fatal(err)
				}
				if d, err = NewEmbedded(tmpl, g, Config{ModelTimeout: time.Hour}, WithClock(clk), WithRegisterer(prometheus.NewRegistry())); err != nil {
					t.Fatal(err)
				}
			} else {
				d, _ = newTestDetector(t, m, g, Config{}, WithClock(clk))
			}
			first := make(chan []Verdict)
			go func() { first <- d.Score(context.Background(), nil, []Group{{SeriesID: "s", Values: []float64{1}}}) }()
			<-g.held // the first call stamped t0 and waits
			clk.set(t0.Add(time.Second))
			second := d.Score(t.Context(), nil, []Group{{SeriesID: "s", Values: []float64{2}}})
			close(g.release)
			got := <-first
			if second[0].Err != ErrNone || got[0].Err != ErrNone {
				t.Fatalf("errors = %v, %v; want both samples accepted", second[0].Err, got[0].Err)
			}
			if got[0].UnixNanos < second[0].UnixNanos {
				t.Errorf("stamps %d then %d: the later sample is stamped earlier", second[0].UnixNanos, got[0].UnixNanos)
			}
		})
	}
}
