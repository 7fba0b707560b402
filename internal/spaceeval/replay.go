package spaceeval

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/nabeval"
)

// Start is the time the replays restamp the first row at: the data's own
// (synthetic) start. Rows follow at the replay's cadence.
var Start = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

// batch is the samples per Score call, agctl replay's default.
const batch = 500

// LoadChannels reads the values of every series of es from
// dir/<series>.csv (timestamp,value; the timestamps are ignored, since a
// replay restamps the rows) and checks each holds its train and test rows.
func LoadChannels(dir string, es []Entry) (map[string][]float64, error) {
	out := map[string][]float64{}
	for _, e := range es {
		if _, done := out[e.Series]; done {
			continue
		}
		f, err := nabeval.LoadFile(filepath.Join(dir, filepath.FromSlash(e.Series)+".csv"))
		if err != nil {
			return nil, err
		}
		if len(f.Values) != e.NTrain+e.NTest {
			return nil, fmt.Errorf("%s: %d rows, want n_train %d + n_test %d", e.Series, len(f.Values), e.NTrain, e.NTest)
		}
		out[e.Series] = f.Values
	}
	return out, nil
}

// gate is the breaker stand-in: open (every model call refused, as after
// agctl breakers force model open) or closed (every call allowed).
type gate struct{ open bool }

var errForcedOpen = errors.New("breaker forced open")

func (g gate) Allow() (uint64, error) {
	if g.open {
		return 0, errForcedOpen
	}
	return 1, nil
}
func (gate) Done(uint64, error) {}

// fixedClock is far past every restamped row, so the clock-skew check
// never refuses one and runs are reproducible.
type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) }

// NewModelPath returns the service's detector over the embedded model
// built from m, with the heuristic built from h (presets off and the
// default policies on, as cmd/astraguard wires them) answering while the
// model warms up.
func NewModelPath(m model.Config, h heuristic.Config) (*detector.Detector, error) {
	return newPath(&m, h)
}

// NewHeuristicPath returns the service's detector with its breaker forced
// open: every verdict comes from the heuristic built from h.
func NewHeuristicPath(h heuristic.Config) (*detector.Detector, error) {
	return newPath(nil, h)
}

func newPath(m *model.Config, hc heuristic.Config) (*detector.Detector, error) {
	hc.NoPreset = true
	h, err := heuristic.New(hc)
	if err != nil {
		return nil, err
	}
	mc := model.Config{}
	if m != nil {
		mc = *m
	}
	t, err := model.NewTemplate(mc)
	if err != nil {
		return nil, err
	}
	// A model pass that overruns ModelTimeout falls back to the heuristic,
	// as in the service; offline, on a loaded machine, that would make runs
	// differ, so the deadline is out of reach.
	d, err := detector.NewEmbedded(t, gate{open: m == nil}, detector.Config{ModelTimeout: time.Hour}, detector.WithClock(fixedClock{}),
		detector.WithHeuristic(h), detector.WithRejectReason(func(error) detector.Reason { return detector.ReasonForcedOpen }))
	if err != nil {
		return nil, err
	}
	ps, err := detector.NewPolicies(detector.DefaultPolicies())
	if err != nil {
		return nil, err
	}
	d.SetPolicies(ps)
	return d, nil
}

// Replay sends values through d as series id, restamped from Start at
// cadence, agctl replay's batch at a time, and returns the anomaly flags,
// one per value. A sample the detector refuses is an error: nothing is
// scored silently as unflagged.
func Replay(ctx context.Context, d *detector.Detector, id string, values []float64, cadence time.Duration) ([]bool, error) {
	flags, _, err := replay(ctx, d, id, values, cadence, false)
	return flags, err
}

// ReplayExplained is Replay that also returns the mechanism each verdict
// names (detector.Explanation.Mechanism), one per value.
func ReplayExplained(ctx context.Context, d *detector.Detector, id string, values []float64, cadence time.Duration) ([]bool, []detector.Mechanism, error) {
	return replay(ctx, d, id, values, cadence, true)
}

// MaxCadence bounds a replay's cadence: a day between samples is beyond
// any telemetry these tools replay, and the restamped times of a long
// channel stay far inside int64 nanoseconds.
const MaxCadence = 24 * time.Hour

// CheckCadence refuses a cadence outside (0, MaxCadence].
func CheckCadence(cadence time.Duration) error {
	if cadence <= 0 || cadence > MaxCadence {
		return fmt.Errorf("cadence %v outside (0, %v]", cadence, MaxCadence)
	}
	return nil
}

func replay(ctx context.Context, d *detector.Detector, id string, values []float64, cadence time.Duration, explain bool) ([]bool, []detector.Mechanism, error) {
	if err := CheckCadence(cadence); err != nil {
		return nil, nil, err
	}
	flags := make([]bool, len(values))
	var mechs []detector.Mechanism
	if explain {
		mechs = make([]detector.Mechanism, len(values))
	}
	ts := make([]int64, 0, batch)
	var out []detector.Verdict
	for off := 0; off < len(values); off += batch {
		vs := values[off:min(off+batch, len(values))]
		ts = ts[:0]
		for i := range vs {
			ts = append(ts, Start.Add(time.Duration(off+i)*cadence).UnixNano())
		}
		out = d.Score(ctx, out[:0], []detector.Group{{SeriesID: id, UnixNanos: ts, Values: vs}})
		for i, v := range out {
			if v.Err != detector.ErrNone {
				return nil, nil, fmt.Errorf("%s row %d: %s", id, off+i, v.Err.Message())
			}
			flags[off+i] = v.Anomaly
			if explain {
				mechs[off+i] = v.Explain.Mechanism
			}
		}
	}
	return flags, mechs, nil
}

// Run replays every channel through one detector from newPath, workers
// channels at a time (<= 0 means 2), and returns each series' test-split
// flags, ready for Score.
func Run(ctx context.Context, es []Entry, channels map[string][]float64, cadence time.Duration,
	newPath func() (*detector.Detector, error), workers int) (map[string][]bool, error) {
	flags, _, err := run(ctx, es, channels, cadence, newPath, workers, false)
	return flags, err
}

// RunExplained is Run that also returns the mechanism of each test-split
// verdict (ReplayExplained).
func RunExplained(ctx context.Context, es []Entry, channels map[string][]float64, cadence time.Duration,
	newPath func() (*detector.Detector, error), workers int) (map[string][]bool, map[string][]detector.Mechanism, error) {
	return run(ctx, es, channels, cadence, newPath, workers, true)
}

func run(ctx context.Context, es []Entry, channels map[string][]float64, cadence time.Duration,
	newPath func() (*detector.Detector, error), workers int, explain bool) (map[string][]bool, map[string][]detector.Mechanism, error) {
	d, err := newPath()
	if err != nil {
		return nil, nil, err
	}
	if workers <= 0 {
		workers = 2
	}
	nTrain := map[string]int{}
	for _, e := range es {
		nTrain[e.Series] = e.NTrain
	}
	ids := SeriesOf(es)
	var (
		mu    sync.Mutex
		out   = map[string][]bool{}
		mechs map[string][]detector.Mechanism
		errs  []error
		wg    sync.WaitGroup
		next  = make(chan string)
	)
	if explain {
		mechs = map[string][]detector.Mechanism{}
	}
	for range min(workers, len(ids)) {
		wg.Go(func() {
			for id := range next {
				vs, ok := channels[id]
				var (
					f []bool
					m []detector.Mechanism
				)
				err := fmt.Errorf("no data for %s", id)
				if ok {
					f, m, err = replay(ctx, d, id, vs, cadence, explain)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					out[id] = f[nTrain[id]:]
					if explain {
						mechs[id] = m[nTrain[id]:]
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	return out, mechs, errors.Join(errs...)
}
