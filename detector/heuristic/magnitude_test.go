package heuristic

import (
	"math"
	"testing"
)

// TestMagnitudes: within ±1e30 (the model's limit too) a constant series
// is calm, a threefold jump is flagged within a few samples and the band
// stays finite, at every scale as at 1; beyond it every sample is flagged
// as implausible, with score 1, and learns nothing. The same noisy series
// scaled by m scores as it does at 1 (the statistics are relative).
func TestMagnitudes(t *testing.T) {
	h := mustNew(t, Config{})
	for _, m := range []float64{1, 1e10, 1e29, 1e31, 1e100, 1e300, -1e300, 5e-324} {
		for _, kind := range []string{"constant", "jump", "noisy"} {
			if kind == "noisy" && math.Abs(m) < 1e-300 {
				continue // no relative noise survives rounding at subnormal scale
			}
			st, ref := h.NewState("x/m"), h.NewState("x/m")
			var n noise = 3
			flags, first := 0, -1
			for i := range 3000 {
				u := 1.0
				if kind == "jump" && i >= 2500 {
					u = 3
				}
				if kind == "noisy" {
					u = 1 + 0.01*n.next()
				}
				v := m * u
				r := h.Score(&st, int64(i), v)
				if !(r.Score >= 0 && r.Score <= 1) || math.IsInf(r.Lower, 0) || math.IsInf(r.Upper, 0) || math.IsNaN(r.Lower+r.Upper+r.Expected) {
					t.Fatalf("m=%g %s: Score(%v) #%d = %+v, want a score in [0, 1] and a finite band", m, kind, v, i, r)
				}
				if math.Abs(m) > maxMagnitude {
					if !r.Anomaly || r.Score != 1 || !r.Implausible || r.HasBand {
						t.Fatalf("m=%g %s: Score(%v) #%d = %+v, want flagged implausible with score 1 and no band", m, kind, v, i, r)
					}
					continue
				}
				if r.Implausible {
					t.Fatalf("m=%g %s: Score(%v) #%d = %+v, want plausible", m, kind, v, i, r)
				}
				if want := h.Score(&ref, int64(i), u); kind == "noisy" && math.Abs(r.Score-want.Score) > 1e-6 {
					t.Fatalf("m=%g noisy: Score(%v) #%d = %v, want %v as for %v", m, v, i, r.Score, want.Score, u)
				}
				if r.Anomaly {
					flags++
					if first < 0 {
						first = i
					}
				}
			}
			switch {
			case math.Abs(m) > maxMagnitude:
			case kind == "jump" && (first < 2500 || first > 2505):
				t.Errorf("m=%g jump: first flag at %d (%d flags), want within 5 samples of the jump at 2500", m, first, flags)
			case kind != "jump" && flags != 0:
				t.Errorf("m=%g %s: %d flags (first at %d), want 0", m, kind, flags, first)
			}
		}
	}
}

// TestBeyondLimitSameAsModel: the heuristic and the model draw the line
// of plausibility at the same place, so a value is flagged as
// implausible whichever of them answers.
func TestBeyondLimitSameAsModel(t *testing.T) {
	h := mustNew(t, Config{})
	for _, v := range []float64{1e30, -1e30, math.Nextafter(1e30, 2e30), -1e31, 1e308, -1e308} {
		st := h.NewState("x/m")
		r := h.Score(&st, 0, v)
		if want := math.Abs(v) > 1e30; r.Implausible != want || r.Anomaly != want {
			t.Errorf("Score(%v) = %+v, want Implausible and Anomaly %v", v, r, want)
		}
	}
}

// TestImplausibleLeavesTheState: a value beyond ±1e30 changes nothing of
// a series' state, its latest timestamp included, so the cadence is
// learned from the plausible samples' intervals alone. This is why the
// state keeps its own latest timestamp: the detector's watermark moves on
// every accepted sample, implausible ones too, and would shorten the
// interval the next sample reports.
func TestImplausibleLeavesTheState(t *testing.T) {
	h := mustNew(t, Config{})
	st, ref := h.NewState("x"), h.NewState("x")
	for i := range 400 {
		ts := int64(i) * 60e9
		v := math.Sin(float64(i) / 7)
		if i%10 == 5 {
			if r := h.Score(&st, ts-30e9, 1e31); !r.Implausible {
				t.Fatalf("Score(1e31) = %+v, want Implausible", r)
			}
		}
		if got, want := h.Score(&st, ts, v), h.Score(&ref, ts, v); got != want {
			t.Fatalf("sample %d: Score = %+v with implausible values between, %+v without", i, got, want)
		}
	}
	if st != ref {
		t.Errorf("state with implausible values between = %+v, want %+v (as without them)", st, ref)
	}
}
