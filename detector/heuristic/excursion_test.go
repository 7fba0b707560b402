package heuristic

import (
	"math"
	"testing"
)

// pulses is a continuous channel (Gaussian noise of deviation 0.1 about
// 0) that every 60-99 samples leaves for a pulse at 1 of 10-15 samples,
// the shape of SMAP E-2 and MSL M-4 outside their labels (the model's
// excursion test series).
type pulses struct {
	h  *Heuristic
	st State
	i  int
	g  uint32
}

func (p *pulses) rnd() float64 {
	p.g = p.g*1664525 + 1013904223
	return (float64(p.g>>8) + 0.5) / (1 << 24)
}

func (p *pulses) noise() float64 {
	return 0.1 * math.Sqrt(-2*math.Log(p.rnd())) * math.Cos(2*math.Pi*p.rnd())
}

// emit feeds n samples at level v and returns the first flag's result
// and its sample (1 the first; 0: no flag).
func (p *pulses) emit(v float64, n int) (Result, int) {
	var first Result
	at := 0
	for k := range n {
		r := p.h.Score(&p.st, int64(p.i)*60e9, v+p.noise())
		p.i++
		if r.Anomaly && at == 0 {
			first, at = r, k+1
		}
	}
	return first, at
}

// TestExcursionFlagsAStayOutOfCharacter: a channel whose pulses beyond
// the band last 10-15 samples and that then stays at the pulse level for
// 60 samples is flagged during the stay as an excursion (on its 24th
// sample: 1.5 times the dwell floor of 16), though no value is new and
// the routine pulses raise no excursion flag. With the rule off
// (ExcursionBand negative: the heuristic before it) the stay passes
// unflagged: its values and its steps are the pulses', and its level
// has been as far out before.
func TestExcursionFlagsAStayOutOfCharacter(t *testing.T) {
	for _, tc := range []struct {
		band float64
		flag bool
		at   int
	}{{0, true, 24}, {-1, false, 0}} {
		h := mustNew(t, Config{NoPreset: true, ExcursionBand: tc.band})
		p := &pulses{h: h, st: h.NewState("s"), g: 11}
		for k := range 80 {
			rest, _ := p.emit(0, 60+int(40*p.rnd()))
			pulse, _ := p.emit(1, 10+int(6*p.rnd()))
			if rest.Excursion || pulse.Excursion {
				t.Fatalf("band %v: routine cycle %d flagged as an excursion", tc.band, k)
			}
		}
		p.emit(0, 150) // past any quiet period
		r, at := p.emit(1, 60)
		if r.Excursion != tc.flag || at != tc.at || (tc.flag && r.Score != 1) {
			t.Errorf("band %v: a stay of 60 samples at the pulse level flagged at its sample %d: %+v, want flag %v (Excursion) at %d", tc.band, at, r, tc.flag, tc.at)
		}
	}
}
