package model

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/synth"
)

// cadenceSeries is a slowly varying signal (a daily wave of 3 around 10)
// with Gaussian noise of sd 0.5, sampled every step.
func cadenceValue(t time.Duration, g *synth.Gauss) float64 {
	return 10 + 3*math.Sin(2*math.Pi*t.Hours()/24) + 0.5*g.Next()
}

// cadenceHistory is how much a series has learned before the shift: three
// days, or 300 samples at slow cadences.
func cadenceHistory(step time.Duration) int {
	return max(int(72*time.Hour/step), 300)
}

var testCadences = []time.Duration{time.Second, time.Minute, 5 * time.Minute, time.Hour}

// TestCadenceLevelShift (issue 18 item 5): at every cadence from 1 s to
// 1 h, a level shift of six noise sigmas on a slowly varying signal is
// flagged within 30 samples.
func TestCadenceLevelShift(t *testing.T) {
	for _, step := range testCadences {
		t.Run(fmt.Sprint(step), func(t *testing.T) {
			d := mustDetector(t, Config{})
			g := synth.NewGauss(11)
			hist := cadenceHistory(step)
			t0 := int64(1_700_006_400e9)
			for i := range hist {
				d.Update(t0+int64(i)*int64(step), cadenceValue(time.Duration(i)*step, g))
			}
			for i := hist; i < hist+30; i++ {
				v := cadenceValue(time.Duration(i)*step, g) + 6*0.5
				if d.Update(t0+int64(i)*int64(step), v).Anomaly {
					return
				}
			}
			t.Errorf("a 6-sigma level shift at %v cadence not flagged within 30 samples", step)
		})
	}
}

// TestCadenceNoiseFalseFlags (issue 18 item 5): a noise-only series raises
// at most one false flag per series-day at every cadence (counted after
// the first day, or the first 300 samples at slow cadences).
func TestCadenceNoiseFalseFlags(t *testing.T) {
	for _, step := range testCadences {
		t.Run(fmt.Sprint(step), func(t *testing.T) {
			d := mustDetector(t, Config{})
			g := synth.NewGauss(5)
			n := max(int(4*24*time.Hour/step), 2000)
			skip := max(int(24*time.Hour/step), 300)
			flags := 0
			for i := range n {
				if d.Update(int64(1_700_006_400e9)+int64(i)*int64(step), 10+0.5*g.Next()).Anomaly && i >= skip {
					flags++
				}
			}
			days := float64(n-skip) * step.Hours() / 24
			if float64(flags) > max(days, 1) {
				t.Errorf("%d false flags in %.1f days of noise at %v cadence, want at most one a day", flags, days, step)
			}
		})
	}
}

// TestCadencePatternHourly: at 1 h cadence the daily wave inverted for a
// day is flagged within that day, whatever the noise. The profile's short
// average used to span eight hours at that cadence, which flattened the
// rhythm the profile's gate measures, so the break was caught or missed
// by chance.
func TestCadencePatternHourly(t *testing.T) {
	const step = time.Hour
	start := synth.StartDay * 24 * time.Hour
	missed := 0
	for seed := range uint64(20) {
		d := mustDetector(t, Config{})
		g := synth.NewGauss(seed)
		last, caught := 0.0, false
		for at := time.Duration(0); at < start+synth.Window && !caught; at += step {
			last = synth.Value(synth.Pattern, at, g, last)
			caught = d.Update(int64(1_700_006_400e9)+int64(at), last).Anomaly && at >= start
		}
		if !caught {
			missed++
		}
	}
	if missed > 0 {
		t.Errorf("the inverted daily pattern at %v cadence missed within %v for %d of 20 noise seeds", step, synth.Window, missed)
	}
}
