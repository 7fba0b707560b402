package breaker

import (
	"fmt"
	"strconv"
	"testing"
)

// TestRatioExhaustive checks every two- and three-digit decimal ratio
// against every window size up to 1000: the fewest failures f with
// f/n >= ratio (decided in exact integers here) must reach the ratio and
// f-1 must not. The float product this replaced missed 141 of these.
func TestRatioExhaustive(t *testing.T) {
	for _, digits := range []int{2, 3} {
		den := int(pow10(digits))
		for p := 1; p <= den; p++ {
			r, err := strconv.ParseFloat(fmt.Sprintf("%.*f", digits, float64(p)/float64(den)), 64)
			if err != nil {
				t.Fatal(err)
			}
			q := newRatio(r)
			for n := 1; n <= 1000; n++ {
				f := (p*n + den - 1) / den // ceil(p*n/den)
				if !q.reached(f, n) {
					t.Fatalf("ratio %v: %d of %d not reached, want reached", r, f, n)
				}
				if f > 0 && q.reached(f-1, n) {
					t.Fatalf("ratio %v: %d of %d reached, want not", r, f-1, n)
				}
			}
		}
	}
}

func TestNewRatio(t *testing.T) {
	tests := []struct {
		in   float64
		want ratio
	}{
		{0.56, ratio{56, 100}},
		{0.5, ratio{5, 10}},
		{1, ratio{1, 1}},
		{2.0 / 3, ratio{6666666666666666, 1e16}},
		{1e-25, ratio{1, 1e19}},
	}
	for _, tt := range tests {
		if got := newRatio(tt.in); got != tt.want {
			t.Errorf("newRatio(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if q := newRatio(2.0 / 3); !q.reached(2, 3) || q.reached(1, 2) {
		t.Errorf("newRatio(2/3): 2 of 3 must reach it, 1 of 2 must not")
	}
	if q := newRatio(0.5); q.reached(1<<40, 1<<62) || !q.reached(1<<61, 1<<62) {
		t.Errorf("newRatio(0.5) wrong on counts near the int range")
	}
}
