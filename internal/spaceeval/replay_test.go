package spaceeval

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/model"
)

// synthetic returns a noisy sine of n rows with a level step of size jump
// over rows [at, at+width) and its label entry.
func synthetic(id string, n, nTrain, at, width int, jump float64) (Entry, []float64) {
	vs := make([]float64, n)
	var s uint64 = 1
	for i := range vs {
		s = s*6364136223846793005 + 1442695040888963407
		vs[i] = 0.3*math.Sin(float64(i)/40) + 0.01*(float64(s>>11)/(1<<53)-0.5)
		if i >= at && i < at+width {
			vs[i] += jump
		}
	}
	e := Entry{Series: id, Spacecraft: "SMAP", NTrain: nTrain, NTest: n - nTrain,
		Sequences: [][2]int{{at - nTrain, at - nTrain + width - 1}}, Classes: []string{Point}}
	return e, vs
}

// TestRunFindsAStep replays a channel with one large step in its test
// split through both paths at two cadences: each must find it, and with
// no false sequence before it.
func TestRunFindsAStep(t *testing.T) {
	e, vs := synthetic("SMAP/S-9", 4000, 1500, 2500, 60, 2)
	es := []Entry{e}
	chans := map[string][]float64{e.Series: vs}
	for name, np := range map[string]func() (*detector.Detector, error){
		"model":     func() (*detector.Detector, error) { return NewModelPath(model.Config{}, heuristic.Config{}) },
		"heuristic": func() (*detector.Detector, error) { return NewHeuristicPath(heuristic.Config{}) },
	} {
		for _, cad := range []time.Duration{time.Minute, 5 * time.Minute} {
			flags, err := Run(context.Background(), es, chans, cad, np, 2)
			if err != nil {
				t.Fatalf("%s@%v: %v", name, cad, err)
			}
			if len(flags[e.Series]) != e.NTest {
				t.Fatalf("%s@%v: %d test flags, want %d", name, cad, len(flags[e.Series]), e.NTest)
			}
			r, _ := Score(es, flags, 0)
			if r.Total.TP != 1 {
				t.Errorf("%s@%v: the step was not found: %+v", name, cad, r.Total)
			}
			again, mechs, err := RunExplained(context.Background(), es, chans, cad, np, 2)
			if err != nil {
				t.Fatalf("%s@%v explained: %v", name, cad, err)
			}
			f, m := again[e.Series], mechs[e.Series]
			if len(m) != e.NTest || !slices.Equal(f, flags[e.Series]) {
				t.Fatalf("%s@%v: RunExplained gave %d mechanisms and other flags than Run", name, cad, len(m))
			}
			for i := range f {
				if f[i] && m[i] == detector.MechanismNone {
					t.Errorf("%s@%v: test row %d flagged without a mechanism", name, cad, i)
					break
				}
			}
		}
	}
}

// TestReplayRefusesRepeats replays a series twice into one detector: the
// second pass is out of order, and Replay must say so rather than report
// the refused rows as unflagged.
func TestReplayRefusesRepeats(t *testing.T) {
	d, err := NewHeuristicPath(heuristic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	vs := []float64{1, 2, 3}
	if _, err := Replay(context.Background(), d, "x", vs, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := Replay(context.Background(), d, "x", vs, time.Minute); err == nil || !strings.Contains(err.Error(), "older") {
		t.Errorf("second replay of the same rows = %v, want an out-of-order error", err)
	}
	if _, err := Replay(context.Background(), d, "y", vs, 0); err == nil {
		t.Error("Replay at cadence 0 succeeded")
	}
}

// TestRunWantsEveryChannel fails a run whose channel has no data.
func TestRunWantsEveryChannel(t *testing.T) {
	e, _ := synthetic("SMAP/S-9", 100, 50, 60, 5, 1)
	_, err := Run(context.Background(), []Entry{e}, map[string][]float64{}, time.Minute,
		func() (*detector.Detector, error) { return NewHeuristicPath(heuristic.Config{}) }, 1)
	if err == nil {
		t.Error("Run without the channel's data succeeded")
	}
}
