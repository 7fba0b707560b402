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
