package synthbench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/spaceeval"
	"github.com/astraguard/astraguard/internal/synth"
)

// fixture is three hand-made series of 10 hourly rows, 2 of history: a
// level shift labelled on rows 4-6, a stuck sensor on row 5, and an
// anomaly-free series.
func fixture() []synth.Labelled {
	mk := func(f synth.Family, k synth.Kind, sz synth.Size, label [2]int) synth.Labelled {
		return synth.Labelled{Spec: synth.Spec{Family: f, Kind: k, Size: sz}, Cadence: time.Hour,
			Values: make([]float64, 10), NTrain: 2, Start: label[0], End: label[1], Label: label}
	}
	return []synth.Labelled{
		mk(synth.WhiteGauss, synth.LevelShift, synth.Easy, [2]int{4, 6}),
		mk(synth.Daily, synth.Flatline, synth.Hard, [2]int{5, 5}),
		mk(synth.Daily, synth.NoAnomaly, synth.Hard, [2]int{-1, -1}),
	}
}

func TestScoreCountsFixture(t *testing.T) {
	s := fixture()
	f := func(on ...int) []bool {
		b := make([]bool, 8)
		for _, i := range on {
			b[i] = true
		}
		return b
	}
	flags := map[string][]bool{
		s[0].ID(): f(2, 3, 7), // [2,3] overlaps the label [2,4]: a hit; [7,7] a false positive
		s[1].ID(): f(),        // missed
		s[2].ID(): f(0, 2),    // two false positives on the anomaly-free series
	}
	r, err := Score(s, flags)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != (spaceeval.Counts{TP: 1, FP: 3, FN: 1}) {
		t.Errorf("Score total = %+v, want {1 3 1}", r.Total)
	}
	if r.Found[synth.LevelShift] != [3]int{0, 0, 1} || r.Labelled[synth.Flatline] != [3]int{1, 0, 0} || r.Found[synth.Flatline] != [3]int{} {
		t.Errorf("Score by kind: found %v, labelled %v", r.Found, r.Labelled)
	}
	if r.FP[synth.WhiteGauss] != 1 || r.FP[synth.Daily] != 2 || r.CleanFP != 2 {
		t.Errorf("Score false positives by family %v, clean %d; want gauss 1, daily 2, clean 2", r.FP, r.CleanFP)
	}
	// 8 hourly test rows per series: a third of a day each.
	if d := r.Days[synth.Daily]; math.Abs(d-16.0/24) > 1e-12 || math.Abs(r.CleanDays-8.0/24) > 1e-12 {
		t.Errorf("Score days: daily %v, clean %v; want 2/3 and 1/3", d, r.CleanDays)
	}
	if got := r.FPPerDay(); math.Abs(got-3) > 1e-12 {
		t.Errorf("FPPerDay = %v, want 3 false positives over a day of series", got)
	}
	mech := func(at map[int]detector.Mechanism) []detector.Mechanism {
		m := make([]detector.Mechanism, 8)
		for i, v := range at {
			m[i] = v
		}
		return m
	}
	mechs := map[string][]detector.Mechanism{
		s[0].ID(): mech(map[int]detector.Mechanism{2: detector.MechanismShift, 3: detector.MechanismState, 7: detector.MechanismRecord}),
		s[2].ID(): mech(map[int]detector.Mechanism{0: detector.MechanismState, 2: detector.MechanismRecord}),
	}
	x, err := ScoreExplained(s, flags, mechs)
	if err != nil {
		t.Fatal(err)
	}
	if x.Total != r.Total || len(x.FPBy) != 2 || x.FPBy["record"] != 2 || x.FPBy["state"] != 1 || len(x.HitBy) != 1 || x.HitBy["shift"] != 1 {
		t.Errorf("ScoreExplained: FP by %v, hits by %v; want record 2, state 1 and shift 1 (the first flag of each sequence)", x.FPBy, x.HitBy)
	}
	var bx strings.Builder
	Table(&bx, []Named{{Name: "m", Report: x}})
	if !strings.Contains(bx.String(), "m                record 2, state 1 | shift 1") {
		t.Errorf("Table lacks the mechanisms line:\n%s", bx.String())
	}
	mechs[s[0].ID()] = mechs[s[0].ID()][:5]
	if _, err := ScoreExplained(s, flags, mechs); err == nil {
		t.Error("ScoreExplained accepted 5 mechanisms for 8 test rows")
	}
	flags[s[0].ID()] = f(1)[:7]
	if _, err := Score(s, flags); err == nil {
		t.Error("Score accepted 7 test flags for 8 test rows")
	}
	delete(flags, s[0].ID())
	if _, err := Score(s, flags); err == nil {
		t.Error("Score accepted a series without flags")
	}
	var b strings.Builder
	chance := Report{Found: map[synth.Kind][3]int{synth.Flatline: {1, 0, 0}}}
	Table(&b, []Named{{Name: "model@1h0m0s", Report: r, Chance: &chance}})
	for _, want := range []string{"shift      1/1 (0 0 1) ~0", "stuck      0/1 (0 0 0) ~1", "daily      3.000"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestEntries(t *testing.T) {
	es, vals, err := Entries(fixture())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || len(vals) != 3 {
		t.Fatalf("Entries: %d entries, %d series, want 3", len(es), len(vals))
	}
	e := es[0]
	if e.NTrain != 2 || e.NTest != 8 || len(e.Sequences) != 1 || e.Sequences[0] != [2]int{2, 4} || e.Classes[0] != "shift" || e.Spacecraft != "gauss" {
		t.Errorf("Entries[0] = %+v, want the label [2 4] in the test split, class shift, family gauss", e)
	}
	if len(es[2].Sequences) != 0 {
		t.Errorf("anomaly-free entry has sequences %v", es[2].Sequences)
	}
	bad := fixture()
	bad[1].Label = [2]int{1, 5}
	if _, _, err := Entries(bad); err == nil {
		t.Error("Entries accepted a label in the history")
	}
	if _, _, err := Entries(append(fixture(), fixture()[0])); err == nil {
		t.Error("Entries accepted a series twice")
	}
}

// TestRunBothPaths replays an easy level shift and an anomaly-free series
// through both paths as the service wires them: the shift is found, and
// the report is Score of the flags Run returns.
func TestRunBothPaths(t *testing.T) {
	const cad = 5 * time.Minute
	var series []synth.Labelled
	for _, s := range synth.Corpus(1) {
		if s.Family == synth.WhiteGauss && (s.Kind == synth.LevelShift && s.Size == synth.Easy || s.Kind == synth.NoAnomaly && s.Rep == 0) {
			l, err := synth.Generate(s, cad)
			if err != nil {
				t.Fatal(err)
			}
			series = append(series, l)
		}
	}
	if len(series) != 2 {
		t.Fatalf("fixture has %d series, want 2", len(series))
	}
	paths := map[string]func() (*detector.Detector, error){
		"model":     func() (*detector.Detector, error) { return spaceeval.NewModelPath(model.Config{}, heuristic.Config{}) },
		"heuristic": func() (*detector.Detector, error) { return spaceeval.NewHeuristicPath(heuristic.Config{}) },
	}
	for name, np := range paths {
		r, flags, err := Run(t.Context(), series, cad, np, 2)
		if err != nil {
			t.Fatal(err)
		}
		if f, l := r.Recall(synth.LevelShift); f != 1 || l != 1 {
			t.Errorf("%s: easy level shift found %d of %d", name, f, l)
		}
		again, err := Score(series, flags)
		if err != nil {
			t.Fatal(err)
		}
		if again.Total != r.Total || again.CleanFP != r.CleanFP {
			t.Errorf("%s: Run reported %+v, Score of its flags %+v", name, r.Total, again.Total)
		}
		rows, err := PerSeries(series, flags)
		if err != nil {
			t.Fatal(err)
		}
		var sum spaceeval.Counts
		for _, row := range rows {
			sum = sum.Add(row.Total)
		}
		if len(rows) != 2 || sum != r.Total || rows[0].Found["shift"] != 1 || rows[0].Labelled["shift"] != 1 {
			t.Errorf("%s: PerSeries = %+v, want 2 rows summing to %+v, the first finding its shift", name, rows, r.Total)
		}
		if n := len(flags[series[0].ID()]); n != len(series[0].Values)-series[0].NTrain {
			t.Errorf("%s: %d flags, want the test split's %d", name, n, len(series[0].Values)-series[0].NTrain)
		}
	}
	if _, _, err := Run(t.Context(), series, time.Minute, paths["model"], 1); err == nil {
		t.Error("Run accepted series generated at another cadence")
	}
}
