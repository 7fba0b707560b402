package stats

import (
	"math"
	"testing"
)

// TestClockObserveSpansInt64: an interval between int64 timestamps wider
// than math.MaxInt64 ns (from before 1970 to after it, or from the
// extremes) is positive, not wrapped: a negative cadence is a state that
// no snapshot decoder accepts.
func TestClockObserveSpansInt64(t *testing.T) {
	tests := []struct {
		first, next int64
		want        float64 // seconds
	}{
		{-5e18, 5e18, 1e10},
		{math.MinInt64, 0, -float64(math.MinInt64) / 1e9},
		{math.MinInt64, math.MaxInt64, math.MaxUint64 / 1e9},
		{1_700_000_000e9, 1_700_000_060e9, 60},
	}
	for _, tt := range tests {
		var c Clock
		c.Start(tt.first)
		c.Observe(tt.next)
		if c.Cadence != tt.want || c.Last != tt.next {
			t.Errorf("Start(%d), Observe(%d): Cadence %v, Last %d; want %v, %d", tt.first, tt.next, c.Cadence, c.Last, tt.want, tt.next)
		}
	}
}
