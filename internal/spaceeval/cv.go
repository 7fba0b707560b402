package spaceeval

import (
	"fmt"
	"math"

	"github.com/astraguard/astraguard/internal/nabeval"
)

// Table holds each candidate configuration's per-series results on the
// spacecraft channels: Res[c][k][s] is candidate c's Result on Series[s] at
// cadence k (all of that series' label rows).
type Table struct {
	Series   []string
	Cadences []string
	Res      [][][]Result
}

// PerSeries scores each series' test flags on its own, in SeriesOf order:
// the row of a Table for one candidate and cadence.
func PerSeries(es []Entry, flags map[string][]bool) ([]Result, error) {
	ids := SeriesOf(es)
	at := map[string]int{}
	out := make([]Result, len(ids))
	for i, id := range ids {
		at[id] = i
		out[i].Add(Result{})
	}
	for _, e := range es {
		f := flags[e.Series]
		if len(f) != e.NTest {
			return nil, fmt.Errorf("%s: %d test flags, want %d", e.Series, len(f), e.NTest)
		}
		out[at[e.Series]].Add(ScoreEntry(e, f, 0))
	}
	return out, nil
}

// Joint is a cross-validation over both corpora together (and any extra
// groups of series).
type Joint struct {
	// NAB is the pooled held-out NAB score (normalised, standard profile)
	// and Space the pooled held-out spacecraft results, per cadence.
	NAB   float64
	Space []Result
	// Best is the candidate with the best objective on everything, and
	// PlainNAB, PlainSpace its in-sample scores.
	Best       int
	PlainNAB   float64
	PlainSpace []Result
	// Extra[i] and PlainExtra[i] are Space and PlainSpace for the i-th
	// extra table.
	Extra, PlainExtra [][]Result
	// Chosen[g] is the candidate chosen without group g: NAB files first,
	// then spacecraft series, then each extra table's series, in their
	// tables' order.
	Chosen []int
}

// CrossValidate chooses, for each group held out (a NAB file, a spacecraft
// channel or a series of an extra table, so no fold sees its own series),
// the candidate with the best objective on every other group, and pools
// each group's score under its fold's choice. The objective weighs the
// corpora equally: the NAB raw total over its null-to-perfect range (1 is
// perfect) plus, per table (the spacecraft's, then each extra one), its F1
// averaged over its cadences. Candidate c of nab must be candidate c of
// every table; ties go to the lowest index.
func CrossValidate(nab *nabeval.Table, sp *Table, extra ...*Table) (Joint, error) {
	nc := len(nab.Raw)
	tabs := append([]*Table{sp}, extra...)
	for _, tb := range tabs {
		if nc == 0 || len(tb.Res) != nc {
			return Joint{}, fmt.Errorf("cross-validate: %d NAB and %d spacecraft candidates: want the same, at least 1", nc, len(tb.Res))
		}
		if len(tb.Cadences) == 0 {
			return Joint{}, fmt.Errorf("cross-validate: a table without cadences")
		}
	}
	if !(nab.Perfect > nab.Null) {
		return Joint{}, fmt.Errorf("cross-validate: perfect %v not above null %v", nab.Perfect, nab.Null)
	}
	nabTot := make([]float64, nc)
	tot := make([][][]Result, len(tabs)) // [table][c][k]
	for c := range nc {
		if len(nab.Raw[c]) != len(nab.Files) {
			return Joint{}, fmt.Errorf("cross-validate: candidate %d is incomplete", c)
		}
		for _, r := range nab.Raw[c] {
			nabTot[c] += r
		}
	}
	for i, tb := range tabs {
		tot[i] = make([][]Result, nc)
		for c := range nc {
			if len(tb.Res[c]) != len(tb.Cadences) {
				return Joint{}, fmt.Errorf("cross-validate: candidate %d is incomplete", c)
			}
			tot[i][c] = make([]Result, len(tb.Cadences))
			for k, row := range tb.Res[c] {
				if len(row) != len(tb.Series) {
					return Joint{}, fmt.Errorf("cross-validate: candidate %d cadence %s has %d series, want %d", c, tb.Cadences[k], len(row), len(tb.Series))
				}
				tot[i][c][k].Add(Result{})
				for _, r := range row {
					tot[i][c][k].Add(r)
				}
			}
		}
	}
	span := nab.Perfect - nab.Null
	// objective scores candidate c without NAB file f, or without series s
	// of table ti (-1: none).
	objective := func(c, f, ti, s int) float64 {
		n := nabTot[c]
		if f >= 0 {
			n -= nab.Raw[c][f]
		}
		v := (n - nab.Null) / span
		for i, tb := range tabs {
			for k := range tb.Cadences {
				t := tot[i][c][k].Total
				if i == ti && s >= 0 {
					o := tb.Res[c][k][s].Total
					t = Counts{t.TP - o.TP, t.FP - o.FP, t.FN - o.FN}
				}
				v += t.F1() / float64(len(tb.Cadences))
			}
		}
		return v
	}
	argmax := func(f, ti, s int) int {
		best, bestV := 0, math.Inf(-1)
		for c := range nc {
			if v := objective(c, f, ti, s); v > bestV+1e-12 {
				best, bestV = c, v
			}
		}
		return best
	}
	j := Joint{Best: argmax(-1, -1, -1)}
	j.PlainNAB = 100 * (nabTot[j.Best] - nab.Null) / span
	held := 0.0
	for f := range nab.Files {
		c := argmax(f, -1, -1)
		j.Chosen = append(j.Chosen, c)
		held += nab.Raw[c][f]
	}
	j.NAB = 100 * (held - nab.Null) / span
	for i, tb := range tabs {
		pooled := make([]Result, len(tb.Cadences))
		for k := range pooled {
			pooled[k].Add(Result{})
		}
		for s := range tb.Series {
			c := argmax(-1, i, s)
			j.Chosen = append(j.Chosen, c)
			for k := range tb.Cadences {
				pooled[k].Add(tb.Res[c][k][s])
			}
		}
		if i == 0 {
			j.Space, j.PlainSpace = pooled, tot[i][j.Best]
			continue
		}
		j.Extra = append(j.Extra, pooled)
		j.PlainExtra = append(j.PlainExtra, tot[i][j.Best])
	}
	return j, nil
}
