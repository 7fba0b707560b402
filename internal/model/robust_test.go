package model

import (
	"testing"

	"github.com/astraguard/astraguard/internal/synth"
)

// heavy feeds days of Student-t(3) noise (unit variance) at 60 s, with a
// spike of size added to n samples from sample at (none if n is 0), and
// returns the shift flags after the first day and whether the spike was
// flagged (on its samples or the five after).
func heavy(t *testing.T, cfg Config, seed uint64, days, at, n int, size float64) (shifts int, hit bool) {
	t.Helper()
	d := mustDetector(t, cfg)
	g := synth.NewGauss(seed)
	for i := range days * 1440 {
		v := g.Student()
		if i >= at && i < at+n {
			v += size
		}
		r := d.Update(1_700_006_400e9+int64(i)*60e9, v)
		if !r.Anomaly || i < 1440 {
			continue
		}
		if r.Mechanism == MechanismShift {
			shifts++
		}
		if n > 0 && i >= at && i < at+n+5 {
			hit = true
		}
	}
	return shifts, hit
}

// TestShiftClipsHeavyTailedOutliers: on Student-t(3) noise, where an
// outlier of ten deviations comes every few hundred samples, one outlier
// no longer pulls the fast mean off the slow one (20 series of 12 days:
// 17 shift flags, 30 without the clip), while a spike of two samples,
// which the clip gives back on its second sample, is found as often as
// without it.
func TestShiftClipsHeavyTailedOutliers(t *testing.T) {
	shifts := map[float64]int{}
	found := map[float64]int{}
	for _, clip := range []float64{0, -1} {
		for seed := uint64(1); seed <= 20; seed++ {
			s, _ := heavy(t, Config{ShiftClip: clip}, seed, 12, 0, 0, 0)
			shifts[clip] += s
			if _, hit := heavy(t, Config{ShiftClip: clip}, seed, 8, 6*1440, 2, 8); hit {
				found[clip]++
			}
		}
	}
	if shifts[0] > 20 || shifts[-1] < 25 {
		t.Errorf("shift flags on heavy-tailed noise: %d clipped (want at most 20), %d unclipped (want at least 25)", shifts[0], shifts[-1])
	}
	if found[0] < found[-1] {
		t.Errorf("two-sample spikes found: %d clipped, %d unclipped: the clip lost spikes", found[0], found[-1])
	}
}

// TestShiftClipIdleOnLightTails: on Gaussian noise, whose outliers beyond
// ShiftClip deviations are far rarer than ShiftTail, the clip never
// engages: every verdict, a spike's included, is the unclipped model's.
func TestShiftClipIdleOnLightTails(t *testing.T) {
	a, b := mustDetector(t, Config{}), mustDetector(t, Config{ShiftClip: -1})
	g := synth.NewGauss(7)
	spikes := 0
	for i := range 10 * 1440 {
		v := g.Next()
		if i%2000 == 1999 {
			v += 8
		}
		ts := 1_700_006_400e9 + int64(i)*60e9
		ra, rb := a.Update(ts, v), b.Update(ts, v)
		if ra != rb {
			t.Fatalf("sample %d: %+v with the clip, %+v without", i, ra, rb)
		}
		if ra.Anomaly && i%2000 == 1999 {
			spikes++
		}
	}
	if a.tail > 0.001 || spikes == 0 {
		t.Errorf("outlier rate %v (want at most ShiftTail 0.001), %d spikes flagged (want some)", a.tail, spikes)
	}
}
