package model

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/synth"
)

// learnNoise feeds d 3000 samples of noise in [9.5, 10.5) at five-minute
// cadence.
func learnNoise(d *Detector) {
	var n noise = 9
	for i := range 3000 {
		d.Update(int64(i)*fiveMin, 10+n.next())
	}
}

// TestJudgeOffLetsAnotherMechanismFlag: a jump of 40 deviations is
// flagged by shift, which wins the max; with shift turned off by the
// judge, another mechanism that fired on the same sample flags it (a
// verdict overruled after the model would have lost the flag).
func TestJudgeOffLetsAnotherMechanismFlag(t *testing.T) {
	d := mustDetector(t, Config{})
	learnNoise(d)
	judged := *d
	r := d.Update(3000*fiveMin, 30)
	if !r.Anomaly || r.Mechanism != MechanismShift {
		t.Fatalf("jump: %+v, want flagged by shift", r)
	}
	j := judged.UpdateJudged(3000*fiveMin, 30, Judge{Off: MechanismShift.Feature()})
	if !j.Anomaly || j.Mechanism == MechanismShift || j.Mechanism == MechanismNone {
		t.Errorf("jump with shift off: %+v, want flagged by another mechanism", j)
	}
}

// TestJudgeOffDoesNotArmSuppression: a new extreme flagged by record
// silences the series for Suppress, hiding a level shift five samples
// later; with record turned off the extreme arms nothing and the shift is
// flagged.
func TestJudgeOffDoesNotArmSuppression(t *testing.T) {
	for _, tt := range []struct {
		name string
		j    Judge
		want bool
	}{{"record on", Judge{}, false}, {"record off", Judge{Off: FeatureRecord}, true}} {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDetector(t, Config{})
			learnNoise(d)
			r := d.UpdateJudged(3000*fiveMin, 10.6, tt.j)
			if r.Anomaly != !tt.want {
				t.Fatalf("new extreme: %+v, want flagged = %v", r, !tt.want)
			}
			got := false
			for i := int64(3001); i < 3010; i++ {
				v := 10.0
				if i >= 3005 {
					v = 20
				}
				if r := d.UpdateJudged(i*fiveMin, v, tt.j); r.Anomaly {
					if r.Mechanism == MechanismRecord || i < 3005 {
						t.Errorf("sample %d: %+v, want no flag before the shift and none by record", i, r)
					}
					got = true
				}
			}
			if got != tt.want {
				t.Errorf("level shift five samples after the extreme flagged = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestJudgeOffKeepsLearning: turning every mechanism off for a while
// changes no statistic, so the state matches a default run's except for
// the suppression the default run's flags armed.
func TestJudgeOffKeepsLearning(t *testing.T) {
	a, b := mustDetector(t, Config{}), mustDetector(t, Config{})
	g := synth.NewGauss(3)
	for i := range 5000 {
		v := 10 + g.Next()
		if i > 4000 {
			v += 5 // flags in a, none in b
		}
		a.Update(int64(i)*fiveMin, v)
		if r := b.UpdateJudged(int64(i)*fiveMin, v, Judge{Off: allFeatures}); r.Anomaly || r.Score != 0 {
			t.Fatalf("sample %d with every mechanism off: %+v, want score 0", i, r)
		}
	}
	a.quiet, b.quiet = 0, 0
	ab, _ := a.AppendBinary(nil)
	bb, _ := b.AppendBinary(nil)
	if string(ab) != string(bb) {
		t.Error("state after a run with every mechanism off differs from a default run's: the judge stopped some learning")
	}
}

// TestSensitivityShift: at five-minute cadence a level shift of 3.5
// noise sigmas on a slowly varying signal is borderline: the default
// judgement misses it within 30 samples, sensitivity 10 (ten times the
// false alarms) flags it, sensitivity 0.1 misses it too.
func TestSensitivityShift(t *testing.T) {
	step := 5 * time.Minute
	for _, tt := range []struct {
		k    float64
		want bool
	}{{1, false}, {10, true}, {0.1, false}} {
		d := mustDetector(t, Config{})
		g := synth.NewGauss(11)
		hist := cadenceHistory(step)
		t0 := int64(1_700_006_400e9)
		for i := range hist {
			d.UpdateJudged(t0+int64(i)*int64(step), cadenceValue(time.Duration(i)*step, g), Judge{Sensitivity: tt.k})
		}
		got := false
		for i := hist; i < hist+30 && !got; i++ {
			v := cadenceValue(time.Duration(i)*step, g) + 3.5*0.5
			got = d.UpdateJudged(t0+int64(i)*int64(step), v, Judge{Sensitivity: tt.k}).Anomaly
		}
		if got != tt.want {
			t.Errorf("sensitivity %v: 3.5-sigma shift flagged = %v, want %v", tt.k, got, tt.want)
		}
	}
}

// TestSensitivityNoise: on eight days of Gaussian noise at 1 s (record
// off, it is a yes/no mechanism that sensitivity does not touch),
// sensitivity 0.1 raises fewer false flags than the default and
// sensitivity 10 more.
func TestSensitivityNoise(t *testing.T) {
	flags := func(k float64) int {
		d := mustDetector(t, Config{})
		g := synth.NewGauss(5)
		n := 0
		for i := range 8 * 24 * 3600 {
			if d.UpdateJudged(int64(1_700_006_400e9)+int64(i)*1e9, 10+0.5*g.Next(), Judge{Sensitivity: k, Off: FeatureRecord}).Anomaly {
				n++
			}
		}
		return n
	}
	low, def, high := flags(0.1), flags(1), flags(10)
	t.Logf("false flags in 8 days at 1 s: sensitivity 0.1: %d, 1: %d, 10: %d", low, def, high)
	if !(low < def && def < high) {
		t.Errorf("false flags by sensitivity 0.1, 1, 10 = %d, %d, %d, want strictly increasing", low, def, high)
	}
}

// TestJudgeThreshold: a judge's threshold decides the flag and arms the
// suppression, so a low threshold flags once per event, not on every
// sample above it.
func TestJudgeThreshold(t *testing.T) {
	d := mustDetector(t, Config{})
	learnNoise(d)
	flags := 0
	for i := int64(3000); i < 3030; i++ {
		if d.UpdateJudged(i*fiveMin, 12, Judge{Threshold: 0.3, Off: FeatureRecord | FeatureContext}).Anomaly {
			flags++
		}
	}
	if flags != 1 {
		t.Errorf("%d flags on one level shift at threshold 0.3, want 1 (the suppression armed at the judge's threshold)", flags)
	}
}

func TestJudgeValidateAndResolve(t *testing.T) {
	for _, j := range []Judge{{Off: 0x80}, {Threshold: -0.1}, {Threshold: 1.5}, {Threshold: math.NaN()},
		{Sensitivity: -1}, {Sensitivity: 0.001}, {Sensitivity: 1e9}, {Sensitivity: math.NaN()}, {Sensitivity: math.Inf(1)}} {
		if err := j.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v.Validate() = %v, want ErrInvalidConfig", j, err)
		}
	}
	for _, j := range []Judge{{}, {Off: allFeatures, Threshold: 1, Sensitivity: 100}, {Threshold: 0.5, Sensitivity: 0.01}} {
		if err := j.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v, want nil", j, err)
		}
	}
	tpl, err := NewTemplate(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if r := tpl.Resolve(Judge{Off: FeatureSeason, Sensitivity: 10}); r.Off != FeatureSeason || r.Sensitivity != 0 || math.Abs(r.Threshold-0.8645) > 1e-3 {
		t.Errorf("Resolve(sensitivity 10) = %+v, want the default threshold 0.95 moved to about 0.8645", r)
	}
	if r := tpl.Resolve(Judge{Threshold: 0.8}); r != (Judge{Threshold: 0.8}) {
		t.Errorf("Resolve without sensitivity = %+v, want it unchanged", r)
	}
	for m := MechanismNone; m <= MechanismState; m++ {
		if f := m.Feature(); (f != 0) != (m != MechanismNone && m != MechanismLimit && m != 7) {
			t.Errorf("%v.Feature() = %#x", m, f)
		}
	}
}
