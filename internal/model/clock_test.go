package model

import (
	"math"
	"testing"
	"time"
)

// TestFastClockStateDoesNotFreezeCadence: a state written while its
// samples were stamped by a clock an hour fast (a replica's snapshot or
// handover, restored here) learns the cadence of the samples that follow
// on the right clock at once: their first timestamp pulls the latest
// sample time back, as the detector pulls its watermark back. Before, every
// sample until the old clock's last stamp carried no interval, so the
// cadence stayed the old one for that hour.
func TestFastClockStateDoesNotFreezeCadence(t *testing.T) {
	const fast = time.Hour
	t0 := int64(1_700_006_400e9)
	src := mustDetector(t, Config{})
	for i := range 50 {
		src.Update(t0+int64(fast)+int64(i)*int64(time.Minute), 10+math.Sin(float64(i)))
	}
	b, err := src.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := mustDetector(t, Config{})
	if err := d.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if math.Abs(d.clk.Cadence-60) > 1e-9 {
		t.Fatalf("cadence before = %v s, want 60", d.clk.Cadence)
	}
	var last int64
	for i := range 100 { // 1,000 s, within the hour the old clock was ahead
		last = t0 + int64(i)*int64(10*time.Second)
		d.Update(last, 10+math.Sin(float64(i)))
	}
	if d.clk.Last != last {
		t.Errorf("latest sample time %d, want the latest sample's %d", d.clk.Last, last)
	}
	if d.clk.Cadence > 20 {
		t.Errorf("cadence after 100 samples 10 s apart = %.1f s; want it learned towards 10 s, not frozen at 60 s", d.clk.Cadence)
	}
}

// TestInOrderCadenceUnchanged: repeated timestamps carry no interval and
// move nothing.
func TestInOrderCadenceUnchanged(t *testing.T) {
	d := mustDetector(t, Config{})
	t0 := int64(1_700_006_400e9)
	for i := range 20 {
		ts := t0 + int64(i/2)*int64(time.Minute) // each stamp twice
		d.Update(ts, 10+math.Sin(float64(i)))
	}
	if math.Abs(d.clk.Cadence-60) > 1e-9 || d.clk.Last != t0+9*int64(time.Minute) {
		t.Errorf("cadence %v s, last %d; want 60 s and the last stamp", d.clk.Cadence, d.clk.Last)
	}
}
