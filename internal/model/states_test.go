package model

import (
	"math"
	"testing"

	"github.com/astraguard/astraguard/internal/synth"
)

// squareWave dwells period/2 samples at each of -1 and 1.
func squareWave(i, period int) float64 {
	if i%period < period/2 {
		return -1
	}
	return 1
}

// TestStatesSquareWaveStaysCalm (issue 18 item 4): a mode-switching
// channel's routine transitions are never flagged (the shift detector
// used to fire on them).
func TestStatesSquareWaveStaysCalm(t *testing.T) {
	d := mustDetector(t, Config{})
	for i := range 20000 {
		if r := d.Update(int64(i)*60e9, squareWave(i, 120)); r.Anomaly {
			t.Fatalf("sample %d: square wave flagged by %v", i, r.Mechanism)
		}
	}
}

// TestStatesFlagBriefDwell: a channel that rests at 1 for 50-100 samples
// between blips of 1-2 samples at -0.2 (SMAP G-7's shape), then starts
// flickering (rests of 6), is flagged as MechanismState once a rest is
// cut 1.5 times shorter than the shortest before; the routine cycles are
// not.
func TestStatesFlagBriefDwell(t *testing.T) {
	d := mustDetector(t, Config{Suppress: -1})
	g := uint32(7)
	rnd := func(n uint32) int { g = g*1664525 + 1013904223; return int((g >> 16) % n) }
	i := 0
	emit := func(v float64, n int) bool {
		flagged := false
		for range n {
			r := d.Update(int64(i)*60e9, v)
			i++
			if r.Anomaly && r.Mechanism == MechanismState {
				flagged = true
			}
		}
		return flagged
	}
	for c := range 60 {
		rest, blip := emit(1, 50+rnd(51)), emit(-0.2, 1+rnd(2))
		if (rest || blip) && c >= 20 {
			t.Fatalf("cycle %d: routine cycle flagged", c)
		}
	}
	for range 10 {
		// The rest is judged when it ends, on the blip's first sample.
		if rest, blip := emit(1, 6), emit(-0.2, 2); rest || blip {
			return
		}
	}
	t.Fatal("rests 8 times shorter than any before not flagged")
}

// TestStatesFlagNewStateAndLongDwell: a value beyond every known state and
// a dwell far longer than any before are flagged as MechanismState.
func TestStatesFlagNewStateAndLongDwell(t *testing.T) {
	for name, anomaly := range map[string]func(i int) float64{
		"new state":  func(int) float64 { return 3 },
		"long dwell": func(int) float64 { return -1 },
	} {
		t.Run(name, func(t *testing.T) {
			d := mustDetector(t, Config{Suppress: -1})
			i := 0
			for ; i < 10000; i++ {
				d.Update(int64(i)*60e9, squareWave(i, 120))
			}
			for j := range 200 {
				r := d.Update(int64(i+j)*60e9, anomaly(j))
				if r.Anomaly {
					if r.Mechanism != MechanismState {
						t.Fatalf("flagged by %v, want state", r.Mechanism)
					}
					return
				}
			}
			t.Fatal("not flagged within 200 samples")
		})
	}
}

// TestSeasonGate (issue 18 item 3): the daily profile reports only for a
// series with a daily rhythm; noise gets no seasonal mechanism at all.
func TestSeasonGate(t *testing.T) {
	var n noise
	wave := mustDetector(t, Config{})
	flat := mustDetector(t, Config{})
	for i := range 3 * 288 {
		ts := int64(i) * fiveMin
		wave.Update(ts, 10+3*math.Sin(2*math.Pi*float64(i)/288)+n.next())
		flat.Update(ts, 10+n.next())
	}
	if !wave.seasonal(300) {
		t.Error("a daily wave has no seasonal mechanism after three days")
	}
	if flat.seasonal(300) || flat.daily {
		t.Error("noise has a seasonal mechanism")
	}
}

// modeSeries switches among three set points with irregular dwells of
// 600 to 1800 samples, in an irregular order.
func modeSeries(n int) []float64 {
	var r noise = 3
	levels := []float64{-1, 0.2, 1}
	out := make([]float64, 0, n)
	cur := 0
	for len(out) < n {
		dwell := 600 + int((r.next()+0.5)*1200)
		for range dwell {
			out = append(out, levels[cur])
		}
		cur = (cur + 1 + int((r.next()+0.5)*2)) % 3
	}
	return out[:n]
}

// TestStatesModeChannelStaysCalm (issue 18 item 4): a mode-switching
// channel's routine switches, irregular dwells and the transitions it
// shows for the first time while still learning its machine are not
// anomalies (the model before raised season, stuck and record flags on
// this series; now at most one dwell may stand out in 40 days).
func TestStatesModeChannelStaysCalm(t *testing.T) {
	d := mustDetector(t, Config{})
	flags := map[Mechanism]int{}
	for i, v := range modeSeries(60000) {
		if r := d.Update(int64(i)*60e9, v); r.Anomaly && i > 2000 {
			flags[r.Mechanism]++
		}
	}
	if n := flags[MechanismState]; len(flags) > 1 || n > 1 {
		t.Errorf("flags on a routine mode channel = %v, want at most one state flag", flags)
	}
}

// TestStatesQuantisedSignalIsContinuous: a slowly varying signal read in
// whole counts (a daily wave of ±3 counts with noise: seven values) steps
// between neighbouring values, so it is judged as the continuous signal
// it is, not as a mode channel whose every unseen transition or long
// dwell is news (the coarse quantised waves of the generated corpus
// raised about 0.4 state flags per series-day).
func TestStatesQuantisedSignalIsContinuous(t *testing.T) {
	d := mustDetector(t, Config{})
	g := synth.NewGauss(2)
	flags := 0
	for i := range 10 * 1440 {
		v := math.Round(10 + 3*math.Sin(2*math.Pi*float64(i)/1440) + 0.3*g.Next())
		if r := d.Update(1_700_006_400e9+int64(i)*60e9, v); r.Anomaly && r.Mechanism == MechanismState {
			flags++
		}
	}
	if d.sts.discrete() || flags > 0 {
		t.Errorf("quantised wave: judged on states %v, %d state flags; want continuous, none", d.sts.discrete(), flags)
	}
}

// TestStatesPulseChannelStaysDiscrete: a channel that rests at -1 and
// pulses to 1, with a rare value just inside each (SMAP E-12's shape),
// has only neighbouring transitions too, but too few values to be a
// quantised signal: it stays a mode channel, and a value beyond its
// states is flagged as one.
func TestStatesPulseChannelStaysDiscrete(t *testing.T) {
	d := mustDetector(t, Config{})
	i := 0
	emit := func(v float64, n int) {
		for range n {
			if r := d.Update(int64(i)*60e9, v); r.Anomaly {
				t.Fatalf("sample %d (%v): routine pulse flagged by %v", i, v, r.Mechanism)
			}
			i++
		}
	}
	for c := range 200 {
		emit(-1, 40)
		emit(1, 10)
		if c%25 == 0 {
			emit(-0.89, 3)
			emit(0.89, 1)
		}
	}
	if !d.sts.discrete() {
		t.Fatalf("pulse channel with %d values judged continuous", d.sts.k)
	}
	if r := d.Update(int64(i)*60e9, 2); !r.Anomaly || r.Mechanism != MechanismState {
		t.Errorf("a value beyond the pulse channel's states: %+v, want a state flag", r)
	}
}
