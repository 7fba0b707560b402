package detector

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/internal/model"
)

func newEmbeddedDetector(t testing.TB, warmUp int, cfg Config, opts ...Option) *Detector {
	t.Helper()
	tmpl, err := model.NewTemplate(model.Config{WarmUp: warmUp})
	if err != nil {
		t.Fatalf("NewTemplate() = %v", err)
	}
	opts = append([]Option{WithClock(&fakeClock{t0}), WithRegisterer(prometheus.NewRegistry())}, opts...)
	if cfg.ModelTimeout == 0 {
		// A pass that overruns the timeout is a model timeout; on a loaded
		// machine the 100ms default can be, which these tests would misread.
		cfg.ModelTimeout = time.Hour
	}
	d, err := NewEmbedded(tmpl, okGate{}, cfg, opts...)
	if err != nil {
		t.Fatalf("NewEmbedded() = %v", err)
	}
	return d
}

func wave(series, n, start int) Group {
	g := Group{SeriesID: "sat1/voltage", UnixNanos: make([]int64, n), Values: make([]float64, n)}
	if series > 0 {
		g.SeriesID = "sat2/current"
	}
	for i := range n {
		g.UnixNanos[i] = t0.Add(-time.Hour).Add(time.Duration(start+i) * time.Second).UnixNano()
		g.Values[i] = 8 + math.Sin(float64(start+i)/7) + float64(series)
	}
	return g
}

// TestEmbeddedMatchesModel: every verdict is what a lone model.Detector
// fed the same series says, across batches and interleaved series.
func TestEmbeddedMatchesModel(t *testing.T) {
	d := newEmbeddedDetector(t, 20, Config{})
	tmpl, _ := model.NewTemplate(model.Config{WarmUp: 20})
	refs := []model.Detector{tmpl.NewDetector(), tmpl.NewDetector()}
	for b := range 10 {
		groups := []Group{wave(0, 7, b*7), wave(1, 7, b*7)}
		got := d.Score(t.Context(), nil, groups)
		k := 0
		for s, g := range groups {
			for i := range g.Values {
				r := refs[s].Update(g.UnixNanos[i], g.Values[i])
				v := got[k]
				k++
				switch {
				case v.Err != ErrNone:
					t.Fatalf("batch %d series %d sample %d: Err = %v", b, s, i, v.Err)
				case !r.Warm && (v.Source != SourceHeuristic || v.Reason != ReasonWarmingUp):
					t.Fatalf("batch %d series %d sample %d: verdict %+v, want heuristic while warming up", b, s, i, v)
				case r.Warm && (v.Source != SourceModel || v.Score != r.Score || v.Anomaly != (r.Anomaly || v.LimitViolation)):
					t.Fatalf("batch %d series %d sample %d: verdict %+v, want model result %+v", b, s, i, v, r)
				}
			}
		}
	}
}

func TestEmbeddedEvictedSeriesWarmsUpAgain(t *testing.T) {
	d := newEmbeddedDetector(t, 5, Config{MaxSeries: 1})
	if v := d.Score(t.Context(), nil, []Group{wave(0, 10, 0)}); v[9].Source != SourceModel {
		t.Fatalf("after warm-up: verdict %+v, want the model's", v[9])
	}
	d.Score(t.Context(), nil, []Group{wave(1, 1, 0)}) // evicts sat1/voltage
	if v := d.Score(t.Context(), nil, []Group{wave(0, 1, 10)}); v[0].Reason != ReasonWarmingUp {
		t.Errorf("evicted series back: verdict %+v, want warming up again", v[0])
	}
	if n := d.SeriesCount(); n != 1 {
		t.Errorf("SeriesCount() = %d, want 1", n)
	}
}

func TestEmbeddedBreakerOpenLeavesModelAlone(t *testing.T) {
	tmpl, _ := model.NewTemplate(model.Config{WarmUp: 5})
	g := &fakeGate{rejectErr: errors.New("open")}
	d, err := NewEmbedded(tmpl, g, Config{}, WithClock(&fakeClock{t0}))
	if err != nil {
		t.Fatal(err)
	}
	d.Score(t.Context(), nil, []Group{wave(0, 10, 0)})
	g.rejectErr = nil
	// Had the model learned while the breaker was open, it would be warm.
	if v := d.Score(t.Context(), nil, []Group{wave(0, 1, 10)}); v[0].Reason != ReasonWarmingUp {
		t.Errorf("first sample after the breaker closed: %+v, want warming up", v[0])
	}
}

func TestNewEmbeddedValidates(t *testing.T) {
	if _, err := NewEmbedded(nil, okGate{}, Config{}); err == nil {
		t.Error("NewEmbedded(nil template) error = nil, want one")
	}
}

// TestEmbeddedPanicFallsBackAndRestartsSeries: a panic in the embedded
// model's update, part way through a group, costs the whole batch its
// model verdicts (every valid sample keeps the heuristic's, with
// MODEL_ERROR), restarts that series' model state and leaves the other
// series' alone. The samples before the panic were updated: the other
// series is not set back.
func TestEmbeddedPanicFallsBackAndRestartsSeries(t *testing.T) {
	d := newEmbeddedDetector(t, 20, Config{})
	ctx := t.Context()
	d.Score(ctx, nil, []Group{wave(0, 40, 0), wave(1, 40, 0)})
	st := d.series.(*seriesTable[*model.Detector])
	update, updates := st.update, 0
	st.update = func(m **model.Detector, ts int64, v float64, p *scratch) Prediction {
		updates++
		if v == 1e6 {
			panic("kaboom")
		}
		return update(m, ts, v, p)
	}
	g0, g1 := wave(0, 10, 40), wave(1, 10, 40)
	g0.Values[4] = 1e6
	got := d.Score(ctx, nil, []Group{g1, g0})
	for i, v := range got {
		if v.Err != ErrNone || v.Source != SourceHeuristic || v.Reason != ReasonModelError {
			t.Fatalf("verdict %d after a panic: %+v, want the heuristic's with MODEL_ERROR", i, v)
		}
	}
	if updates != 15 {
		t.Errorf("%d model updates, want 15: the first group and the panicking one's samples up to the panic", updates)
	}
	st.update = update
	got = d.Score(ctx, nil, []Group{wave(0, 1, 50), wave(1, 1, 50)})
	if got[0].Reason != ReasonWarmingUp {
		t.Errorf("the panicking series next: %+v, want its model warming up afresh", got[0])
	}
	if got[1].Source != SourceModel {
		t.Errorf("the other series next: %+v, want the model's verdict", got[1])
	}
}
