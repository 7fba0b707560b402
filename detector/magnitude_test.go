package detector

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// calmModel is a remote model that calls every sample warm and calm, with
// a band around 0: what a model that cannot see magnitudes might say.
type calmModel struct{}

func (calmModel) Predict(_ context.Context, _ []Group, out []Prediction) error {
	for i := range out {
		out[i] = Prediction{Warm: true, Explain: Explanation{HasBand: true, Lower: -1, Upper: 1}}
	}
	return nil
}

// magnitudeGroup is n five-minute samples of m ending an hour before t0,
// each 3m from sample jumpAt on (jumpAt >= n: none).
func magnitudeGroup(m float64, n, jumpAt int) Group {
	g := Group{SeriesID: "sat1/m", UnixNanos: make([]int64, n), Values: make([]float64, n)}
	start := t0.Add(-time.Hour).Add(-time.Duration(n) * 5 * time.Minute)
	for i := range n {
		g.UnixNanos[i] = start.Add(time.Duration(i) * 5 * time.Minute).UnixNano()
		g.Values[i] = m
		if i >= jumpAt {
			g.Values[i] = 3 * m
		}
	}
	return g
}

// magnitudePaths builds a detector on each path: the embedded model, a
// remote model that calls everything calm, and the heuristic alone (the
// breaker open).
var magnitudePaths = map[string]func(t *testing.T) *Detector{
	"embedded": func(t *testing.T) *Detector { return newEmbeddedDetector(t, 0, Config{}) },
	"remote": func(t *testing.T) *Detector {
		d, _ := newTestDetector(t, calmModel{}, &fakeGate{}, Config{})
		return d
	},
	"heuristic": func(t *testing.T) *Detector {
		d, _ := newTestDetector(t, calmModel{}, &fakeGate{rejectErr: errors.New("open")}, Config{})
		return d
	},
}

// TestMagnitudes sends a constant series and one with a threefold jump,
// at scales from 5e-324 to ±1e300, through the embedded model, a remote
// model that calls everything calm, and the heuristic alone (breaker
// open). Within ±1e30 a constant series is calm, the jump is flagged by
// the in-process scorers and every band is finite; beyond it every
// sample is an anomaly of score 1 with MechanismLimit, whichever path
// answers and whatever a remote model says.
func TestMagnitudes(t *testing.T) {
	const n, jumpAt = 3000, 2500
	for name, newDet := range magnitudePaths {
		for _, m := range []float64{1, 1e10, 1e29, 1e31, 1e100, 1e300, -1e300, 5e-324} {
			for _, jump := range []bool{false, true} {
				d := newDet(t)
				at := n
				if jump {
					at = jumpAt
				}
				g := magnitudeGroup(m, n, at)
				var got []Verdict
				for off := 0; off < n; off += 500 {
					part := Group{SeriesID: g.SeriesID, UnixNanos: g.UnixNanos[off : off+500], Values: g.Values[off : off+500]}
					got = append(got, d.Score(t.Context(), nil, []Group{part})...)
				}
				first := -1
				for i, v := range got {
					e := v.Explain
					if v.Err != ErrNone || math.IsInf(e.Lower, 0) || math.IsInf(e.Upper, 0) || math.IsNaN(e.Lower+e.Upper+e.Expected) {
						t.Fatalf("%s m=%g jump=%v: verdict %d = %+v, want scored with a finite band", name, m, jump, i, v)
					}
					if math.Abs(g.Values[i]) > 1e30 {
						if !v.Anomaly || v.Score != 1 || e.Mechanism != MechanismLimit {
							t.Fatalf("%s m=%g jump=%v: verdict %d of %g = %+v, want anomaly, score 1, MechanismLimit", name, m, jump, i, g.Values[i], v)
						}
						continue
					}
					if v.Anomaly && first < 0 {
						first = i
					}
				}
				switch {
				case math.Abs(m) > 1e30, name == "remote":
				case !jump && first >= 0:
					t.Errorf("%s m=%g constant: flagged at %d, want calm", name, m, first)
				case jump && (first < jumpAt || first > jumpAt+10):
					t.Errorf("%s m=%g jump: first flag at %d, want within 10 samples of %d", name, m, first, jumpAt)
				}
			}
		}
	}
}

// TestImplausibleBeatsPolicyDirection: a policy that keeps only upward
// anomalies, or only large ones, still reports a value beyond ±1e30
// (either side) as an anomaly of score 1 with MechanismLimit, on every
// path, as it does an operating-limit violation: the value is corrupt,
// not a deviation to weigh. An ordinary downward spike is still left out.
func TestImplausibleBeatsPolicyDirection(t *testing.T) {
	ps, err := NewPolicies([]Policy{{Name: "up", Globs: []string{"*"}, Direction: DirectionUp, MinDeviation: 1e300}})
	if err != nil {
		t.Fatal(err)
	}
	for name, newDet := range magnitudePaths {
		d := newDet(t)
		d.SetPolicies(ps)
		g := magnitudeGroup(1, 3000, 3000)
		for i := range g.Values {
			g.Values[i] = 1 + float64(i%7)/100
		}
		g.Values[2990], g.Values[2995] = -1e31, -50
		got := d.Score(t.Context(), nil, []Group{g})
		if v := got[2990]; !v.Anomaly || v.Score != 1 || v.Explain.Mechanism != MechanismLimit {
			t.Errorf("%s: verdict of -1e31 under a policy for upward anomalies = %+v, want anomaly, score 1, MechanismLimit", name, v)
		}
		if v := got[2995]; v.Anomaly {
			t.Errorf("%s: verdict of -50 under a policy for upward anomalies = %+v, want no anomaly", name, v)
		}
	}
}

// TestHeuristicPathReportsStuck: with the breaker open, a series that
// varies and then freezes is flagged by the heuristic's flatline rule and
// the verdict says MechanismStuck (the heuristic had no such rule, and its
// flags all read as shift).
func TestHeuristicPathReportsStuck(t *testing.T) {
	d := magnitudePaths["heuristic"](t)
	g := magnitudeGroup(1, 3000, 3000)
	for i := range 2900 {
		g.Values[i] = 10 + math.Sin(float64(i)/7) + float64(i%5)/10
	}
	for i := 2900; i < 3000; i++ {
		g.Values[i] = 10
	}
	var got []Verdict
	for off := 0; off < len(g.Values); off += 500 {
		part := Group{SeriesID: g.SeriesID, UnixNanos: g.UnixNanos[off : off+500], Values: g.Values[off : off+500]}
		got = append(got, d.Score(t.Context(), nil, []Group{part})...)
	}
	for i, v := range got[2900:] {
		if v.Anomaly {
			if v.Explain.Mechanism != MechanismStuck || v.Source != SourceHeuristic {
				t.Errorf("freeze flagged at %d: %+v, want the heuristic's MechanismStuck", i, v)
			}
			return
		}
	}
	t.Error("a series frozen for 100 samples was never flagged on the heuristic path")
}
