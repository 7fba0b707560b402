package nabeval

import (
	"math"
	"testing"
)

// TestCrossValidateHoldsOut builds a table where candidate 1 wins in sample
// only because of one file: leave-one-file-out must score that file with the
// candidate chosen on the others, so the cross-validated score is below the
// plain one.
func TestCrossValidateHoldsOut(t *testing.T) {
	tb := &Table{
		Candidates: []string{"steady", "lucky"},
		Files:      []string{"a", "b", "c"},
		Raw: [][]float64{
			{0.5, 0.5, 0.5},
			{0.0, 0.0, 2.0},
		},
		Null: -3, Perfect: 3,
	}
	r, err := tb.CrossValidate()
	if err != nil {
		t.Fatal(err)
	}
	if r.Best != 1 || !near(r.Plain, 100*(2+3)/6.0) {
		t.Errorf("plain = candidate %d scoring %v, want lucky scoring %v", r.Best, r.Plain, 100*5/6.0)
	}
	// Holding out a or b, lucky still wins on the rest (2 > 1); holding out
	// c, steady wins (1 > 0) and scores 0.5 there.
	want := []int{1, 1, 0}
	for f, c := range r.Chosen {
		if c != want[f] {
			t.Errorf("fold %s chose %d, want %d", tb.Files[f], c, want[f])
		}
	}
	if got := 100 * (0 + 0 + 0.5 + 3) / 6.0; !near(r.Score, got) {
		t.Errorf("cv score = %v, want %v", r.Score, got)
	}
}

func TestCrossValidateRejectsBadTables(t *testing.T) {
	for name, tb := range map[string]*Table{
		"one file":      {Files: []string{"a"}, Raw: [][]float64{{1}}, Null: -1, Perfect: 1},
		"ragged":        {Files: []string{"a", "b"}, Raw: [][]float64{{1}}, Null: -1, Perfect: 1},
		"no candidates": {Files: []string{"a", "b"}, Null: -1, Perfect: 1},
		"bad baselines": {Files: []string{"a", "b"}, Raw: [][]float64{{1, 1}}, Null: 1, Perfect: 1},
	} {
		if _, err := tb.CrossValidate(); err == nil {
			t.Errorf("%s: CrossValidate error = nil, want one", name)
		}
	}
}

func TestParsePerFile(t *testing.T) {
	out := []byte(`corpus: 2 files, 3 windows (3 with scored rows), probation 15% (cap 750 rows)

detector           profile                threshold        raw     TP     FP     score
c0@0.5             standard                     0.5    -0.1100      4      1    66.500
    cat/a.csv                                                    0.8900 tp=4 fp=0 fn=1 tn=9
    cat/b.csv                                                   -1.0000 tp=0 fp=1 fn=2 tn=9
c0@0.5             reward_low_FP_rate           0.5    -0.2200      4      1    60.000
    cat/a.csv                                                    7.0000 tp=4 fp=0 fn=1 tn=9
`)
	per, err := parsePerFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := per["c0@0.5"]; len(got) != 2 || got["cat/a.csv"] != 0.89 || got["cat/b.csv"] != -1 {
		t.Errorf("per-file standard scores = %v, want a 0.89, b -1", got)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
