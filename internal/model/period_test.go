package model

import (
	"math"
	"testing"
)

// orbit is a 90-minute rhythm (an orbit) with noise, sampled every minute.
func orbit(i int, n *noise) float64 { return 5 + math.Sin(2*math.Pi*float64(i)/90) + 0.1*n.next() }

// TestPeriodLearned (issue 18 item 3): a series with an orbit-like rhythm
// learns its period (90 minutes: 18 blocks of 5 minutes), and noise learns
// none.
func TestPeriodLearned(t *testing.T) {
	var n noise
	rhythm, flat := mustDetector(t, Config{}), mustDetector(t, Config{})
	for i := range 3000 {
		rhythm.Update(int64(i)*60e9, orbit(i, &n))
		flat.Update(int64(i)*60e9, 5+n.next())
	}
	if p := rhythm.per.per; p < 17 || p > 19 {
		t.Errorf("period of a 90-minute rhythm = %d blocks, want 18", p)
	}
	if p := flat.per.per; p != 0 {
		t.Errorf("noise has a period of %d blocks, want none", p)
	}
}

// TestPeriodBreakFlagged: when the rhythm stops (the value holds its mean,
// within the normal range), the break is flagged as season within two
// periods, and the rhythm itself raised no flag before. The predictor
// (context) sees this break too; it is off here to test the period alone.
func TestPeriodBreakFlagged(t *testing.T) {
	var n noise
	d := mustDetector(t, Config{Disable: FeatureContext})
	for i := range 6000 {
		if r := d.Update(int64(i)*60e9, orbit(i, &n)); r.Anomaly && i > 1440 {
			t.Fatalf("sample %d: the steady rhythm flagged by %v", i, r.Mechanism)
		}
	}
	for i := 6000; i < 6180; i++ {
		if r := d.Update(int64(i)*60e9, 5+0.1*n.next()); r.Anomaly {
			if r.Mechanism != MechanismSeason {
				t.Errorf("the stopped rhythm flagged by %v, want season", r.Mechanism)
			}
			return
		}
	}
	t.Error("the rhythm stopped and nothing was flagged within two periods")
}
