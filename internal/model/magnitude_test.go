package model

import (
	"math"
	"testing"
)

// magnitudes are the scales the model is checked at: within ±1e30 it
// learns and judges a series the same whatever its scale; beyond, every
// sample is implausible (MechanismLimit). 5e-324 is the smallest
// subnormal.
var magnitudes = []float64{1, 1e10, 1e29, 1e31, 1e100, 1e300, -1e300, 5e-324}

// magnitudeRun feeds 3000 five-minute samples of m to a fresh detector,
// each m*3 from sample 2500 on when jump is set, and returns the results.
// The series is exactly constant otherwise, so it means the same at a
// subnormal scale, where no relative noise survives rounding.
func magnitudeRun(t *testing.T, m float64, jump bool) []Result {
	t.Helper()
	d := mustDetector(t, Config{})
	ts := int64(1_700_000_000e9)
	rs := make([]Result, 3000)
	for i := range rs {
		v := m
		if jump && i >= 2500 {
			v = 3 * m
		}
		ts += fiveMin
		rs[i] = d.Update(ts, v)
		r := rs[i]
		if !(r.Score >= 0 && r.Score <= 1) || !finite(r.Expected) || !finite(r.Lower) || !finite(r.Upper) || r.Reset {
			t.Fatalf("m=%g: Update(%v) #%d = %+v, want a score in [0, 1], a finite band and no reset", m, v, i, r)
		}
	}
	return rs
}

// TestMagnitudes: a constant series is calm and a threefold jump flagged
// at every scale up to ±1e30, as at 1; beyond ±1e30 every sample is
// flagged with MechanismLimit from the first one, though the series never
// warms up (it learns nothing from such values).
func TestMagnitudes(t *testing.T) {
	for _, m := range magnitudes {
		for _, jump := range []bool{false, true} {
			rs := magnitudeRun(t, m, jump)
			if math.Abs(m) > maxMagnitude || math.Abs(3*m) > maxMagnitude && jump {
				for i, r := range rs {
					if math.Abs(m) <= maxMagnitude && i < 2500 {
						continue
					}
					if !r.Anomaly || r.Score != 1 || r.Mechanism != MechanismLimit {
						t.Fatalf("m=%g jump=%v: sample %d = %+v, want flagged with score 1 and MechanismLimit", m, jump, i, r)
					}
				}
				continue
			}
			flags, first := 0, -1
			for i, r := range rs {
				if r.Anomaly {
					flags++
					if first < 0 {
						first = i
					}
				}
			}
			if !rs[len(rs)-1].Warm {
				t.Errorf("m=%g jump=%v: never warm", m, jump)
			}
			switch {
			case !jump && flags != 0:
				t.Errorf("m=%g constant: %d flags (first at %d), want 0", m, flags, first)
			case jump && (first < 2500 || first > 2510):
				t.Errorf("m=%g jump: first flag at %d (%d flags), want within 10 samples of the jump at 2500", m, first, flags)
			}
		}
	}
}

// TestBeyondLimitDoesNotWarm: values beyond ±1e30 are not learned, so a
// series of them stays cold, and a later ordinary series warms up as if
// they had never come; they are flagged throughout.
func TestBeyondLimitDoesNotWarm(t *testing.T) {
	d := mustDetector(t, Config{})
	ref := mustDetector(t, Config{})
	ts := int64(1_700_000_000e9)
	for range 500 {
		ts += fiveMin
		if r := d.Update(ts, 1e31); r.Warm || !r.Anomaly || r.Mechanism != MechanismLimit || r.Expected != 0 || r.Lower != 0 || r.Upper != 0 {
			t.Fatalf("Update(1e31) on a cold series = %+v, want flagged, MechanismLimit, not warm, no band", r)
		}
	}
	var n noise = 7
	for i := range 1000 {
		ts += fiveMin
		v := 5 + n.next()
		if got, want := d.Update(ts, v), ref.Update(ts, v); got != want {
			t.Fatalf("sample %d after 500 values beyond the limit: Update(%v) = %+v, want %+v (as if they never came)", i, v, got, want)
		}
	}
}
