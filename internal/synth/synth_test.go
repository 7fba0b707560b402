package synth

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/model"
)

func modelDetect(t testing.TB) func() Detect {
	return func() Detect {
		d, err := model.NewDetector(model.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return func(ts int64, v float64) bool { return d.Update(ts, v).Anomaly }
	}
}

// TestModelAcrossCadences asserts the model behaves alike at every
// cadence: a level shift, a spike and a frozen sensor are caught within the
// window, and false positives stay bounded per day, not per sample.
func TestModelAcrossCadences(t *testing.T) {
	if testing.Short() {
		t.Skip("feeds about 7 million samples")
	}
	rows := Run(modelDetect(t))
	var b strings.Builder
	Table(&b, rows)
	t.Logf("model per cadence (detection delay; false positives per day):\n%s", b.String())
	for _, r := range rows {
		switch r.Scenario {
		case Shift, Spike, Stuck:
			if r.Delay < 0 {
				t.Errorf("%s at %v: not detected within %v", r.Scenario, r.Cadence, Window)
			}
		}
		if r.FalsePerDay > 1 {
			t.Errorf("%s at %v: %.2f false positives per day, want at most 1", r.Scenario, r.Cadence, r.FalsePerDay)
		}
	}
}

// TestScenariosInject checks the generator: each scenario differs from the
// clean series where, and only where, its anomaly lies.
func TestScenariosInject(t *testing.T) {
	start := StartDay * 24 * time.Hour
	at := func(s Scenario, t time.Duration, last float64) float64 { return Value(s, t, NewGauss(1), last) }
	for _, s := range Scenarios[1:] {
		if before, clean := at(s, start-time.Hour, 0), at(Clean, start-time.Hour, 0); before != clean {
			t.Errorf("%s before the start = %v, want the clean %v", s, before, clean)
		}
		if during, clean := at(s, start+time.Hour, 42), at(Clean, start+time.Hour, 42); during == clean && s != Spike {
			t.Errorf("%s an hour after the start = clean value %v", s, during)
		}
	}
	if v := at(Spike, start, 0) - at(Clean, start, 0); math.Abs(v-20*noiseSD) > 1e-9 {
		t.Errorf("spike adds %v, want %v", v, 20*noiseSD)
	}
	if v := at(Stuck, start+time.Hour, 42); v != 42 {
		t.Errorf("stuck value = %v, want the last value 42", v)
	}
}
