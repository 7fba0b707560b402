package model

import (
	"math"
	"testing"
)

// pulses is a continuous channel (Gaussian noise of deviation 0.1 about
// 0) that every 60-99 samples leaves for a pulse at 1 of 10-15 samples,
// the shape of SMAP E-2 and MSL M-4 outside their labels.
type pulses struct {
	d *Detector
	i int
	g uint32
}

func (p *pulses) rnd() float64 {
	p.g = p.g*1664525 + 1013904223
	return (float64(p.g>>8) + 0.5) / (1 << 24)
}

func (p *pulses) noise() float64 {
	return 0.1 * math.Sqrt(-2*math.Log(p.rnd())) * math.Cos(2*math.Pi*p.rnd())
}

// emit feeds n samples at level v and reports the mechanism of the first
// flag (MechanismNone: no flag) and its sample (1 the first).
func (p *pulses) emit(v float64, n int) (Mechanism, int) {
	m, at := MechanismNone, 0
	for k := range n {
		r := p.d.Update(int64(p.i)*60e9, v+p.noise())
		p.i++
		if r.Anomaly && m == MechanismNone {
			m, at = r.Mechanism, k+1
		}
	}
	return m, at
}

// cycles feeds c routine cycles (a rest about 0, a pulse at 1) and
// returns the mechanism of the first flag after the first 20.
func (p *pulses) cycles(c int) Mechanism {
	first := MechanismNone
	for k := range c {
		rest, _ := p.emit(0, 60+int(40*p.rnd()))
		pulse, _ := p.emit(1, 10+int(6*p.rnd()))
		if k >= 20 && first == MechanismNone {
			first = max(rest, pulse)
		}
	}
	return first
}

// TestExcursionFlagsAStayOutOfCharacter: a channel whose pulses beyond
// the band last 10-15 samples and that then stays at the pulse level for 60
// samples is flagged as context during the stay (on its 24th sample: 1.5
// times the dwell floor of 16), though no value is new and the routine
// pulses are not flagged. With the rule off (ExcursionBand negative, the
// model before it) the stay passes unflagged: it sets no record and its
// fast mean has been as far out before.
func TestExcursionFlagsAStayOutOfCharacter(t *testing.T) {
	for _, tc := range []struct {
		band float64
		want Mechanism
		at   int
	}{{0, MechanismContext, 24}, {-1, MechanismNone, 0}} {
		p := &pulses{d: mustDetector(t, Config{ExcursionBand: tc.band}), g: 11}
		if m := p.cycles(80); m != MechanismNone {
			t.Fatalf("band %v: routine cycles flagged by %v", tc.band, m)
		}
		p.emit(0, 80)
		if m, at := p.emit(1, 60); m != tc.want || at != tc.at {
			t.Errorf("band %v: a stay of 60 samples at the pulse level flagged by %v at its sample %d, want %v at %d", tc.band, m, at, tc.want, tc.at)
		}
	}
}
