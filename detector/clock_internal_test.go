package detector

import "testing"

// TestStampClockNeverGoesBack: the receive-time clock follows the wall
// clock forward, holds at its last stamp while the wall clock is behind
// it, and follows the wall clock again once it has passed.
func TestStampClockNeverGoesBack(t *testing.T) {
	var c stampClock
	for _, tc := range []struct{ wall, want int64 }{
		{100, 100},
		{200, 200}, // forward
		{150, 200}, // stepped back: hold
		{199, 200},
		{201, 201}, // caught up
	} {
		if got := c.stamp(tc.wall); got != tc.want {
			t.Errorf("stamp(%d) = %d, want %d", tc.wall, got, tc.want)
		}
	}
}

// TestPullBack: a watermark beyond what the call's samples may carry is
// pulled back to the skew bound for client timestamps and to the stamp
// for server stamps, unless a client may still send past it.
func TestPullBack(t *testing.T) {
	now := scoreTime{stamp: 1000, latest: 1010} // skew 10
	for _, tc := range []struct {
		last  int64
		own   bool
		want  int64
		moved bool
	}{
		{1005, false, 1005, false}, // within the skew: kept
		{5000, false, 1010, true},  // client: to latest
		{1005, true, 1005, false},  // a client may still send past it: order kept
		{5000, true, 1000, true},   // server stamp: to the stamp
	} {
		last := tc.last
		if moved := now.pullBack(&last, tc.own); moved != tc.moved || last != tc.want {
			t.Errorf("pullBack(%d, own=%v) = %d, %v; want %d, %v", tc.last, tc.own, last, moved, tc.want, tc.moved)
		}
	}
}
