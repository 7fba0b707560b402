package spaceeval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// Counts are telemanom's sequence counts.
type Counts struct{ TP, FP, FN int }

// Add returns the sum of c and o.
func (c Counts) Add(o Counts) Counts { return Counts{c.TP + o.TP, c.FP + o.FP, c.FN + o.FN} }

// Precision is TP / (TP + FP), 0 when nothing was predicted.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP / (TP + FN), 0 when nothing was labelled.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall, 0 when both are 0.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Result is a scored run: the totals, the totals per spacecraft, and per
// anomaly class how many labelled sequences were found of how many.
type Result struct {
	Total        Counts
	BySpacecraft map[string]Counts
	Found        map[string]int // by class: labelled sequences matched
	Labelled     map[string]int // by class: labelled sequences
}

// Add folds o into r (pooling folds or label rows).
func (r *Result) Add(o Result) {
	if r.BySpacecraft == nil {
		r.BySpacecraft, r.Found, r.Labelled = map[string]Counts{}, map[string]int{}, map[string]int{}
	}
	r.Total = r.Total.Add(o.Total)
	for k, c := range o.BySpacecraft {
		r.BySpacecraft[k] = r.BySpacecraft[k].Add(c)
	}
	for k, n := range o.Found {
		r.Found[k] += n
	}
	for k, n := range o.Labelled {
		r.Labelled[k] += n
	}
}

// Sequences turns per-row flags into predicted sequences: runs of
// consecutive flagged rows as inclusive [start, end] indices, each widened
// by buffer rows on both sides (within the rows) and overlapping or
// adjacent runs merged, as score.py's seqs_from_flags.
func Sequences(flags []bool, buffer int) [][2]int {
	var out [][2]int
	n := len(flags)
	for i := 0; i < n; i++ {
		if !flags[i] {
			continue
		}
		j := i
		for j+1 < n && flags[j+1] {
			j++
		}
		r := [2]int{max(0, i-buffer), min(n-1, j+buffer)}
		if k := len(out) - 1; k >= 0 && r[0] <= out[k][1]+1 {
			out[k][1] = max(out[k][1], r[1])
		} else {
			out = append(out, r)
		}
		i = j
	}
	return out
}

// Evaluate counts one label row: each predicted sequence that overlaps a
// labelled one is a hit, and the first labelled sequence it overlaps is
// matched (one true positive, once); one that overlaps none is a false
// positive; unmatched labelled sequences are false negatives. matched[k]
// says whether labelled sequence k was found.
func Evaluate(pred, labelled [][2]int) (c Counts, matched []bool) {
	matched = make([]bool, len(labelled))
	for _, p := range pred {
		hit := -1
		for k, l := range labelled {
			if p[0] <= l[1] && l[0] <= p[1] {
				hit = k
				break
			}
		}
		switch {
		case hit < 0:
			c.FP++
		case !matched[hit]:
			matched[hit] = true
			c.TP++
		}
	}
	for _, m := range matched {
		if !m {
			c.FN++
		}
	}
	return c, matched
}

// ScoreEntry scores one label row given its test split's flags.
func ScoreEntry(e Entry, test []bool, buffer int) Result {
	c, matched := Evaluate(Sequences(test, buffer), e.Sequences)
	r := Result{Total: c, BySpacecraft: map[string]Counts{e.Spacecraft: c}, Found: map[string]int{}, Labelled: map[string]int{}}
	for k, cls := range e.Classes {
		r.Labelled[cls]++
		if matched[k] {
			r.Found[cls]++
		}
	}
	return r
}

// Score scores every label row of es; flags[series] holds the flags of
// that series' test split, exactly NTest of them.
func Score(es []Entry, flags map[string][]bool, buffer int) (Result, error) {
	var r Result
	r.Add(Result{})
	for _, e := range es {
		f, ok := flags[e.Series]
		if !ok {
			return Result{}, fmt.Errorf("no flags for %s", e.Series)
		}
		if len(f) != e.NTest {
			return Result{}, fmt.Errorf("%s: %d test flags, want %d", e.Series, len(f), e.NTest)
		}
		r.Add(ScoreEntry(e, f, buffer))
	}
	return r, nil
}

// ReadRun reads the test-split flags of every series of es from the
// verdict CSVs agctl replay wrote under dir (dir/<series>.csv, the anomaly
// column: "1" or "true" is a flag, "0" or "false" none, anything else an
// error naming the file and line). A file must hold exactly the series'
// train and test rows.
func ReadRun(dir string, es []Entry) (map[string][]bool, error) {
	out := map[string][]bool{}
	for _, e := range es {
		if _, done := out[e.Series]; done {
			continue
		}
		f, err := readFlags(filepath.Join(dir, filepath.FromSlash(e.Series)+".csv"))
		if err != nil {
			return nil, err
		}
		if len(f) != e.NTrain+e.NTest {
			return nil, fmt.Errorf("%s: %d rows, want n_train %d + n_test %d", e.Series, len(f), e.NTrain, e.NTest)
		}
		out[e.Series] = f[e.NTrain:]
	}
	return out, nil
}

func readFlags(path string) ([]bool, error) {
	fh, _, err := smallfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	hdr, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	col := -1
	for i, h := range hdr {
		if strings.TrimSpace(h) == "anomaly" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("%s: no anomaly column in header %q", path, strings.Join(hdr, ","))
	}
	var flags []bool
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return flags, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) <= col {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("%s:%d: %d fields, want at least %d", path, line, len(rec), col+1)
		}
		switch a := strings.TrimSpace(rec[col]); a {
		case "1", "true":
			flags = append(flags, true)
		case "0", "false":
			flags = append(flags, false)
		default:
			line, _ := r.FieldPos(col)
			return nil, fmt.Errorf("%s:%d: anomaly %q, want 1, 0, true or false", path, line, a)
		}
	}
}
