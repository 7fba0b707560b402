package spaceeval

import (
	"math"
	"testing"

	"github.com/astraguard/astraguard/internal/nabeval"
)

func res(tp, fp, fn int) Result {
	return Result{Total: Counts{tp, fp, fn}, BySpacecraft: map[string]Counts{"SMAP": {tp, fp, fn}},
		Found: map[string]int{Point: tp}, Labelled: map[string]int{Point: tp + fn}}
}

// TestCrossValidateJoint has two candidates: "nab" is better on NAB,
// "space" on the spacecraft channels, by more than it loses on NAB. Every
// fold must choose on the other groups only, so a channel that alone makes
// "space" win is scored under "nab".
func TestCrossValidateJoint(t *testing.T) {
	nab := &nabeval.Table{Files: []string{"a", "b"}, Raw: [][]float64{{1, 1}, {0.5, 0.5}}, Null: -2, Perfect: 2}
	// Candidate 1 finds the one anomaly of series x without false
	// positives; y is the same under both. x decides the objective.
	sp := &Table{Series: []string{"x", "y"}, Cadences: []string{"60s"}, Res: [][][]Result{
		{{res(0, 1, 1), res(1, 0, 0)}},
		{{res(1, 0, 0), res(1, 0, 0)}},
	}}
	j, err := CrossValidate(nab, sp)
	if err != nil {
		t.Fatal(err)
	}
	// All groups: nab 1.0 + F1 0.667 = 1.667 against 0.75 + 1 = 1.75.
	if j.Best != 1 || !near(j.PlainNAB, 100*(1+2)/4.0) {
		t.Errorf("best %d plain NAB %v, want candidate 1 at 75", j.Best, j.PlainNAB)
	}
	// Without a: nab 0.75+0.667 vs 0.625+1 -> 1; without b: the same; without
	// x: 1+1 vs 0.75+1 -> 0; without y: 1+0 vs 0.75+1 -> 1.
	want := []int{1, 1, 0, 1}
	for g, c := range j.Chosen {
		if c != want[g] {
			t.Errorf("fold %d chose %d, want %d", g, c, want[g])
		}
	}
	if !near(j.NAB, 100*(0.5+0.5+2)/4) {
		t.Errorf("cv NAB %v, want 75", j.NAB)
	}
	if j.Space[0].Total != (Counts{1, 1, 1}) {
		t.Errorf("cv spacecraft %+v, want x under candidate 0 and y under 1: {1 1 1}", j.Space[0].Total)
	}
	sp.Res = sp.Res[:1]
	if _, err := CrossValidate(nab, sp); err == nil {
		t.Error("mismatched candidate counts accepted")
	}
}

func TestPerSeriesPoolsLabelRows(t *testing.T) {
	es, flags := loadFixture(t)
	rows, err := PerSeries(es, flags)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1].Total != (Counts{1, 5, 1}) {
		t.Fatalf("per series = %+v; want 3 series, Y-1 pooling its two label rows to {1 5 1}", rows)
	}
	var all Result
	for _, r := range rows {
		all.Add(r)
	}
	whole, _ := Score(es, flags, 0)
	if all.Total != whole.Total {
		t.Errorf("per-series sum %+v, whole run %+v", all.Total, whole.Total)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestCrossValidateExtraTable adds a third group whose one series strongly
// prefers candidate 0: every fold that sees it chooses 0, and the fold
// holding it out chooses as the two corpora alone would (1).
func TestCrossValidateExtraTable(t *testing.T) {
	nab := &nabeval.Table{Files: []string{"a", "b"}, Raw: [][]float64{{1, 1}, {0.5, 0.5}}, Null: -2, Perfect: 2}
	sp := &Table{Series: []string{"x", "y"}, Cadences: []string{"60s"}, Res: [][][]Result{
		{{res(0, 1, 1), res(1, 0, 0)}},
		{{res(1, 0, 0), res(1, 0, 0)}},
	}}
	syn := &Table{Series: []string{"u"}, Cadences: []string{"60s", "300s"}, Res: [][][]Result{
		{{res(1, 0, 0)}, {res(1, 0, 0)}},
		{{res(0, 1, 1)}, {res(0, 1, 1)}},
	}}
	j, err := CrossValidate(nab, sp, syn)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 0, 0, 0, 1}
	if j.Best != 0 || len(j.Chosen) != len(want) {
		t.Fatalf("best %d, chosen %v; want 0 and %v", j.Best, j.Chosen, want)
	}
	for g, c := range j.Chosen {
		if c != want[g] {
			t.Errorf("fold %d chose %d, want %d", g, c, want[g])
		}
	}
	if len(j.Extra) != 1 || len(j.Extra[0]) != 2 || j.Extra[0][1].Total != (Counts{0, 1, 1}) || j.PlainExtra[0][0].Total != (Counts{1, 0, 0}) {
		t.Errorf("extra held out %+v, plain %+v; want u under candidate 1 {0 1 1}, plain {1 0 0}", j.Extra, j.PlainExtra)
	}
	if j.Space[0].Total != (Counts{1, 1, 1}) {
		t.Errorf("cv spacecraft %+v, want both channels under candidate 0: {1 1 1}", j.Space[0].Total)
	}
	syn.Res = syn.Res[:1]
	if _, err := CrossValidate(nab, sp, syn); err == nil {
		t.Error("an extra table with fewer candidates accepted")
	}
}
