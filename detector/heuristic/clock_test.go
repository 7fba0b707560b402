package heuristic

import (
	"math"
	"testing"
	"time"
)

// TestFastClockStateDoesNotFreezeCadence: as the model's (internal/model),
// a heuristic state written while its samples were stamped by a clock an
// hour fast learns the cadence of the samples that follow on the right
// clock at once, instead of holding the old cadence for that hour.
func TestFastClockStateDoesNotFreezeCadence(t *testing.T) {
	h, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	const fast = time.Hour
	t0 := int64(1_700_006_400e9)
	src := h.NewState("s")
	for i := range 50 {
		h.Score(&src, t0+int64(fast)+int64(i)*int64(time.Minute), 10+math.Sin(float64(i)))
	}
	b, err := src.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	st := h.NewState("s")
	if err := st.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	var last int64
	for i := range 100 { // 1,000 s, within the hour the old clock was ahead
		last = t0 + int64(i)*int64(10*time.Second)
		h.Score(&st, last, 10+math.Sin(float64(i)))
	}
	if st.clk.Last != last {
		t.Errorf("latest sample time %d, want the latest sample's %d", st.clk.Last, last)
	}
	if st.clk.Cadence > 20 {
		t.Errorf("cadence after 100 samples 10 s apart = %.1f s; want it learned towards 10 s, not frozen at 60 s", st.clk.Cadence)
	}
}
