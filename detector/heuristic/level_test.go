package heuristic

import (
	"math"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/stats"
	"github.com/astraguard/astraguard/internal/synth"
)

// TestLevelShiftOnDailyWaveAtEveryCadence is issue 18's cadence
// requirement for the fallback: a level shift of six noise sigmas on a
// daily wave (internal/synth's shift scenario, which nabeval -cadence
// runs) is flagged within 30 samples at every cadence from 1 s to 1 h, for
// several noise seeds, and no sample of the days before it is flagged
// (after the first day). Before the level score the heuristic never
// flagged it at 1 min or 5 min: its slow mean cannot follow the wave.
func TestLevelShiftOnDailyWaveAtEveryCadence(t *testing.T) {
	h := mustNew(t, Config{NoPreset: true})
	start := synth.StartDay * 24 * time.Hour
	for _, step := range synth.Cadences {
		seeds := uint64(8)
		if step < time.Minute {
			if testing.Short() {
				continue
			}
			seeds = 2 // 864000 samples a seed
		}
		for seed := uint64(1); seed <= seeds; seed++ {
			st := h.NewState("s")
			g := synth.NewGauss(seed)
			last, falseFlags, delay := 0.0, 0, -1
			for at := time.Duration(0); at < start+30*step && delay < 0; at += step {
				last = synth.Value(synth.Shift, at, g, last)
				if !h.Score(&st, int64(1_700_006_400e9)+int64(at), last).Anomaly || at < 24*time.Hour {
					continue
				}
				if at < start {
					falseFlags++
					continue
				}
				delay = int((at - start) / step)
			}
			if delay < 0 {
				t.Errorf("%v, seed %d: a 6-sigma shift on a daily wave not flagged within 30 samples", step, seed)
			}
			if perDay := float64(falseFlags) / float64(synth.StartDay-1); perDay > 1 {
				t.Errorf("%v, seed %d: %.2f false flags a day before the shift, want at most one", step, seed, perDay)
			}
		}
	}
}

// TestLevelScoreIgnoresOneOutlier: the tested error is clipped (Huber),
// so one outlier of 12 noise sigmas in Gaussian noise at 5 minute cadence
// does not make a level change on its own: the level score's z stays
// under the flag's (4.66 at 5 minutes: a two-sided tail of 3.2e-6) on the
// outlier and after it. Unclipped, the outlier's one-step error alone
// would add about 1.7 to the error's short average, whose long-run
// deviation is about 0.2. (The outlier itself is the shift and step
// scores' to flag, as they do.)
func TestLevelScoreIgnoresOneOutlier(t *testing.T) {
	h := mustNew(t, Config{NoPreset: true})
	worst := 0.0
	for seed := uint64(1); seed <= 8; seed++ {
		st := h.NewState("s")
		g := synth.NewGauss(seed)
		for i := range 3010 {
			v := 10 + 0.5*g.Next()
			if i == 3000 {
				v += 12 * 0.5
			}
			if i >= 3000 {
				probe := st
				probe.n++
				worst = max(worst, h.level(&probe, v, stats.Floor(probe.mean, probe.quantum)))
			}
			h.Score(&st, int64(i)*fiveMinutes, v)
		}
	}
	if worst >= 4.66 {
		t.Errorf("level score z %.2f after one outlier, want under the flag's 4.66", worst)
	}
	t.Logf("largest level z after one outlier: %.2f", worst)
}

// TestLevelScoreFlagsALastingShiftOnce: after a shift of hundreds of
// noise sigmas that lasts, the background catches up (its cleaning scale
// widens under the lasting errors, Gelper et al.'s biweight recursion), so
// the series is flagged at the shift and not again when the quiet period
// ends. Cleaned in a fixed scale the background rings around the new
// level for hundreds of samples and flagged again after the quiet period.
func TestLevelScoreFlagsALastingShiftOnce(t *testing.T) {
	h := mustNew(t, Config{NoPreset: true})
	st := h.NewState("s")
	var n noise = 3
	var flags []int
	for i := range 6000 {
		v := 10 + n.next()
		if i >= 3000 {
			v += 100
		}
		if h.Score(&st, int64(i)*fiveMinutes, v).Anomaly && i >= 3000 {
			flags = append(flags, i-3000)
		}
	}
	if len(flags) != 1 || flags[0] > 2 {
		t.Errorf("a lasting shift of 100 (noise sd 0.29) flagged at samples %v after it, want once, within 2", flags)
	}
	if f := 2*st.lin1 - st.lin2; math.Abs(f-110) > 1 {
		t.Errorf("background level %v after 3000 samples at 110", f)
	}
}
