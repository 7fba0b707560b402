package heuristic

import (
	"errors"
	"math"
	"testing"
	"time"
	"unsafe"

	"github.com/astraguard/astraguard/internal/synth"
)

type noise uint64

func (n *noise) next() float64 {
	*n = *n*6364136223846793005 + 1442695040888963407
	return float64(uint64(*n)>>11)/(1<<53) - 0.5
}

func mustNew(t testing.TB, cfg Config) *Heuristic {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) error = %v", cfg, err)
	}
	return h
}

func TestChannel(t *testing.T) {
	tests := map[string]string{
		"sat1/voltage": "voltage", "sat1.bus.temperature": "temperature",
		"gyro": "gyro", "a/b.c/gyro": "gyro", "": "", "sat1/": "",
	}
	for id, want := range tests {
		if got := Channel(id); got != want {
			t.Errorf("Channel(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestPresetLimits(t *testing.T) {
	h := mustNew(t, Config{})
	tests := []struct {
		series string
		v      float64
		want   bool
	}{
		{"sat1/voltage", 8, false},
		{"sat1/voltage", 7, false},
		{"sat1/voltage", 9, false},
		{"sat1/voltage", 6.9, true},
		{"sat1/voltage", 9.1, true},
		{"sat1/temperature", 40, false},
		{"sat1/temperature", 40.5, true},
		{"sat1/temperature", -100, false},
		{"sat1.gyro", 0.1, false},
		{"sat1.gyro", -0.11, true},
		{"sat1.gyro", 0.2, true},
		{"sat1/pressure", 1e9, false}, // no limit configured
		{"x/VOLTAGE", 100, true},      // channels match case-insensitively
		{"sat1.Temperature", 41, true},
		{"SAT1/GYRO", 0.05, false},
	}
	for _, tt := range tests {
		st := h.NewState(tt.series)
		r := h.Score(&st, 0, tt.v)
		if r.LimitViolation != tt.want || r.Anomaly != tt.want {
			t.Errorf("Score(%s, %v) = %+v, want LimitViolation=Anomaly=%v", tt.series, tt.v, r, tt.want)
		}
		if tt.want && r.Score != 1 {
			t.Errorf("Score(%s, %v).Score = %v, want 1", tt.series, tt.v, r.Score)
		}
	}
}

func TestConfiguredLimitsCaseInsensitive(t *testing.T) {
	h := mustNew(t, Config{Limits: map[string]Limit{"Pressure": Above(5)}})
	st := h.NewState("tank/PRESSURE")
	if r := h.Score(&st, 0, 6); !r.LimitViolation {
		t.Errorf("Score(tank/PRESSURE, 6) = %+v, want a violation of the Pressure limit", r)
	}
	if _, err := New(Config{Limits: map[string]Limit{"pressure": Above(5), "PRESSURE": Above(6)}}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New with pressure and PRESSURE = %v, want ErrInvalidConfig", err)
	}
}

func TestConfiguredLimits(t *testing.T) {
	h := mustNew(t, Config{
		Limits:       map[string]Limit{"voltage": Within(20, 30), "current": Above(2)},
		SeriesLimits: map[string]Limit{"sat9/voltage": Below(1)},
	})
	tests := []struct {
		series string
		v      float64
		want   bool
	}{
		{"sat1/voltage", 8, true}, // channel override replaces the preset
		{"sat1/voltage", 25, false},
		{"sat1/current", 3, true},
		{"sat9/voltage", 8, false}, // series limit wins over the channel's
		{"sat9/voltage", 0.5, true},
		{"sat1/temperature", 41, true}, // preset still present
	}
	for _, tt := range tests {
		st := h.NewState(tt.series)
		if r := h.Score(&st, 0, tt.v); r.LimitViolation != tt.want {
			t.Errorf("Score(%s, %v).LimitViolation = %v, want %v", tt.series, tt.v, r.LimitViolation, tt.want)
		}
	}
	noPreset := mustNew(t, Config{NoPreset: true})
	st := noPreset.NewState("sat1/temperature")
	if r := noPreset.Score(&st, 0, 100); r.LimitViolation {
		t.Errorf("NoPreset: Score(temperature, 100).LimitViolation = true, want false")
	}
}

func TestInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"inverted limit": {Limits: map[string]Limit{"x": Within(5, 1)}},
		"NaN limit":      {SeriesLimits: map[string]Limit{"x": Above(math.NaN())}},
		"negative learn": {Learning: -1},
		"bad half-life":  {HalfLife: -1},
		"bad flag":       {Flag: math.Inf(1)},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("New(%s) error = %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestLearningPeriod(t *testing.T) {
	h := mustNew(t, Config{Learning: 30})
	st := h.NewState("sat1/voltage")
	for i := range 100 {
		v := 8 + 0.01*float64(i%3)
		if i == 10 {
			v = 8.9 // a jump inside the limits while learning: not flagged
		}
		r := h.Score(&st, int64(i), v)
		if want := i < 30; r.Learning != want {
			t.Fatalf("sample %d: Learning = %v, want %v", i, r.Learning, want)
		}
		if r.Learning && r.Anomaly {
			t.Fatalf("sample %d: Anomaly while learning", i)
		}
	}
	// Limits apply while learning.
	st = h.NewState("sat1/voltage")
	if r := h.Score(&st, 0, 10); !r.LimitViolation || !r.Learning {
		t.Errorf("first sample 10 V: %+v, want LimitViolation and Learning", r)
	}
}

func TestFlatAndQuantisedStayCalm(t *testing.T) {
	h := mustNew(t, Config{NoPreset: true})
	gens := map[string]func(int, *noise) float64{
		"flat":      func(int, *noise) float64 { return 3.3 },
		"zero":      func(int, *noise) float64 { return 0 },
		"quantised": func(_ int, n *noise) float64 { return math.Round(2 * n.next()) },
		"toggle":    func(i int, _ *noise) float64 { return float64(i % 2) },
	}
	for name, gen := range gens {
		t.Run(name, func(t *testing.T) {
			st := h.NewState(name)
			var n noise = 5
			flags := 0
			for i := range 5000 {
				r := h.Score(&st, int64(i), gen(i, &n))
				if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
					t.Fatalf("sample %d: Score = %v, want in [0, 1]", i, r.Score)
				}
				if r.Anomaly {
					flags++
				}
			}
			// "Stay calm" means no runaway: a flag rate of at most 0.2%.
			if flags > 10 {
				t.Errorf("%d flags in 5000 normal samples, want at most 10", flags)
			}
		})
	}
}

func TestDetectsLevelShift(t *testing.T) {
	h := mustNew(t, Config{})
	st := h.NewState("sat1/pressure")
	var n noise
	for i := range 2000 {
		h.Score(&st, int64(i), 10+n.next())
	}
	for i := range 10 {
		if h.Score(&st, int64(2000+i), 20+n.next()).Anomaly {
			return
		}
	}
	t.Fatal("level shift of 10 deviations not flagged within 10 samples")
}

func TestNaNDoesNotPoisonState(t *testing.T) {
	h := mustNew(t, Config{})
	clean, dirty := h.NewState("sat1/voltage"), h.NewState("sat1/voltage")
	var n noise
	for i := range 2000 {
		v := 8 + 0.3*n.next()
		if i%50 == 0 {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				if r := h.Score(&dirty, int64(i), bad); r.Anomaly || r.Score != 0 {
					t.Fatalf("Score(%v) = %+v, want zero", bad, r)
				}
			}
		}
		if a, b := h.Score(&clean, int64(i), v), h.Score(&dirty, int64(i), v); a != b {
			t.Fatalf("sample %d: %+v after invalid inputs, want %+v", i, b, a)
		}
	}
}

func TestStateSizeAndAllocs(t *testing.T) {
	if sz := unsafe.Sizeof(State{}); sz > 256 {
		t.Errorf("unsafe.Sizeof(State{}) = %d, want <= 256", sz)
	}
	h := mustNew(t, Config{})
	st := h.NewState("sat1/voltage")
	var n noise
	i := int64(0)
	if a := testing.AllocsPerRun(1000, func() { i++; h.Score(&st, i, 8+n.next()) }); a != 0 {
		t.Errorf("Score allocates %v times per call, want 0", a)
	}
}

func FuzzScore(f *testing.F) {
	for _, v := range []float64{0, 8, -1e308, 1e308, math.NaN(), math.Inf(1), 5e-324} {
		f.Add(v, 1.0)
	}
	h := mustNew(f, Config{Learning: 5})
	f.Fuzz(func(t *testing.T, a, b float64) {
		st := h.NewState("sat1/voltage")
		for i := range 40 {
			v := a
			if i%3 == 0 {
				v = b
			}
			r := h.Score(&st, int64(i), v)
			if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
				t.Fatalf("Score(%v) = %v, want in [0, 1]", v, r.Score)
			}
		}
	})
}

func BenchmarkScore(b *testing.B) {
	h := mustNew(b, Config{})
	st := h.NewState("sat1/voltage")
	var n noise
	vs := make([]float64, 4096)
	for i := range vs {
		vs[i] = 8 + 0.2*math.Sin(float64(i)/20) + 0.05*n.next()
	}
	b.ReportAllocs()
	b.ReportMetric(float64(unsafe.Sizeof(st)), "state-bytes")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Score(&st, int64(i), vs[i&(len(vs)-1)])
	}
}

// TestStepScoreFindsRoughness feeds a smooth series whose noise grows
// fivefold while its level stays put: the shift score alone misses it
// (the level never moves), the step score must flag it.
func TestStepScoreFindsRoughness(t *testing.T) {
	h := mustNew(t, Config{})
	st := h.NewState("sat1/current")
	var n noise
	flagged := -1
	for i := range 6000 {
		amp := 0.01
		if i >= 5000 {
			amp = 0.05
		}
		r := h.Score(&st, int64(i), math.Sin(float64(i)/200)+amp*n.next())
		if r.Anomaly && flagged < 0 {
			flagged = i
		}
	}
	if flagged < 5000 || flagged > 5100 {
		t.Errorf("first flag at sample %d, want within 100 samples of the change at 5000 and none before", flagged)
	}
}

// TestLevelsJudgeStates feeds a square wave of two values: its
// transitions are routine and never flag, a third value flags at once,
// and a series with more than Levels values is judged on shifts again.
func TestLevelsJudgeStates(t *testing.T) {
	h := mustNew(t, Config{})
	st := h.NewState("sat1/mode")
	for i := range 3000 {
		v := float64((i / 37) % 2)
		if r := h.Score(&st, int64(i), v); r.Anomaly {
			t.Fatalf("square wave sample %d (%v) flagged: %+v", i, v, r)
		}
	}
	if r := h.Score(&st, 3000, 0.5); !r.Anomaly || r.Score != 1 {
		t.Errorf("a value the mode channel never took = %+v, want flagged with score 1", r)
	}
	off := mustNew(t, Config{Levels: -1})
	st = off.NewState("sat1/mode")
	flags := 0
	for i := range 3000 {
		if off.Score(&st, int64(i), float64((i/1000)%2)).Anomaly {
			flags++
		}
	}
	if flags == 0 {
		t.Error("with Levels off, a two-valued series' rare transitions never flagged: want the shift score to judge them")
	}
}

// TestScoreAtFlagLevel: ScoreAt with flag 0 is Score; a lower flag level
// flags a small shift the default does not, once, and starts the quiet
// period (the next samples of the shift do not flag again).
func TestScoreAtFlagLevel(t *testing.T) {
	h := mustNew(t, Config{NoPreset: true})
	a, b, c := h.NewState("s"), h.NewState("s"), h.NewState("s")
	var n noise = 3
	for i := range 2000 {
		v := 10 + n.next()
		ra, rb := h.Score(&a, int64(i)*fiveMinutes, v), h.ScoreAt(&b, int64(i)*fiveMinutes, v, 0)
		h.ScoreAt(&c, int64(i)*fiveMinutes, v, 0.3)
		if ra != rb {
			t.Fatalf("sample %d: ScoreAt(flag 0) = %+v, Score = %+v", i, rb, ra)
		}
	}
	if h.Flag() != 0.55 {
		t.Errorf("Flag() = %v, want the default 0.55", h.Flag())
	}
	def, low := 0, 0
	for i := 2000; i < 2030; i++ {
		if h.Score(&a, int64(i)*fiveMinutes, 10.2).Anomaly {
			def++
		}
		if h.ScoreAt(&c, int64(i)*fiveMinutes, 10.2, 0.3).Anomaly {
			low++
		}
	}
	if def != 0 || low != 1 {
		t.Errorf("small shift flagged %d times by default and %d times at flag 0.3, want 0 and 1", def, low)
	}
}

// fiveMinutes is the interval, in nanoseconds, at which the flag level's
// tail probability holds per sample (stats.RefCadence).
const fiveMinutes = int64(300e9)

// TestFalseAlarmsPerDayAtEveryCadence: the flag level is per five minutes
// of data, not per sample, so a slowly varying signal with noise (a daily
// wave, internal/synth's clean series) raises at most one false flag a day
// at every cadence from 1 s to 1 h. Per sample, 1 s data took 288 times the
// looks of 5-minute data a day and raised about three false flags a day.
func TestFalseAlarmsPerDayAtEveryCadence(t *testing.T) {
	h := mustNew(t, Config{NoPreset: true})
	for _, step := range synth.Cadences {
		st := h.NewState("s")
		g := synth.NewGauss(1)
		days := 3
		flags, last := 0, 0.0
		for at := time.Duration(0); at < time.Duration(days)*24*time.Hour; at += step {
			last = synth.Value(synth.Clean, at, g, last)
			if h.Score(&st, int64(1_700_006_400e9)+int64(at), last).Anomaly && at >= 24*time.Hour {
				flags++
			}
		}
		if perDay := float64(flags) / float64(days-1); perDay > 1 {
			t.Errorf("%v cadence: %.1f false flags a day, want at most one", step, perDay)
		}
	}
}

// TestFlatlineFlagged: a series that varies and then freezes (a stuck
// sensor) is flagged once its run of identical values is 1.1 times the
// longest before and at least 33 repeats, as the model's flatline rule
// does; the flag says Stuck. The heuristic had no such rule: a frozen
// value sits at the slow mean, where neither the shift nor the step score
// sees it.
func TestFlatlineFlagged(t *testing.T) {
	h := mustNew(t, Config{NoPreset: true})
	st := h.NewState("s")
	var n noise = 5
	for i := range 3000 {
		if r := h.Score(&st, int64(i)*fiveMinutes, 10+n.next()); r.Stuck {
			t.Fatalf("sample %d of noise: %+v, want no stuck flag", i, r)
		}
	}
	for i := 3000; i < 3100; i++ {
		r := h.Score(&st, int64(i)*fiveMinutes, 10)
		if r.Anomaly {
			if !r.Stuck || r.Score != 1 || i-3000 != 33 {
				t.Errorf("frozen value flagged at sample %d of the freeze: %+v, want Stuck, score 1, at 33 (its 33rd repeat)", i-3000, r)
			}
			return
		}
	}
	t.Error("a value frozen for 100 samples was never flagged")
}
