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

// Joint is a cross-validation over both corpora together.
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
	// Chosen[g] is the candidate chosen without group g: NAB files first,
	// then spacecraft series, in their tables' order.
	Chosen []int
}

// CrossValidate chooses, for each group held out (a NAB file or a
// spacecraft channel, so no fold sees its own series), the candidate with
// the best objective on every other group, and pools each group's score
// under its fold's choice. The objective weighs the corpora equally: the
// NAB raw total over its null-to-perfect range (1 is perfect) plus the
// spacecraft F1 averaged over the cadences. Candidate c of nab must be
// candidate c of sp; ties go to the lowest index.
func CrossValidate(nab *nabeval.Table, sp *Table) (Joint, error) {
	nc := len(nab.Raw)
	if nc == 0 || len(sp.Res) != nc {
		return Joint{}, fmt.Errorf("cross-validate: %d NAB and %d spacecraft candidates: want the same, at least 1", nc, len(sp.Res))
	}
	if !(nab.Perfect > nab.Null) || len(sp.Cadences) == 0 {
		return Joint{}, fmt.Errorf("cross-validate: perfect %v not above null %v, or no cadence", nab.Perfect, nab.Null)
	}
	nabTot := make([]float64, nc)
	spTot := make([][]Result, nc) // [c][k]
	for c := range nc {
		if len(nab.Raw[c]) != len(nab.Files) || len(sp.Res[c]) != len(sp.Cadences) {
			return Joint{}, fmt.Errorf("cross-validate: candidate %d is incomplete", c)
		}
		for _, r := range nab.Raw[c] {
			nabTot[c] += r
		}
		spTot[c] = make([]Result, len(sp.Cadences))
		for k, row := range sp.Res[c] {
			if len(row) != len(sp.Series) {
				return Joint{}, fmt.Errorf("cross-validate: candidate %d cadence %s has %d series, want %d", c, sp.Cadences[k], len(row), len(sp.Series))
			}
			spTot[c][k].Add(Result{})
			for _, r := range row {
				spTot[c][k].Add(r)
			}
		}
	}
	span := nab.Perfect - nab.Null
	// objective scores candidate c without NAB file f or series s (-1: none).
	objective := func(c, f, s int) float64 {
		n := nabTot[c]
		if f >= 0 {
			n -= nab.Raw[c][f]
		}
		v := (n - nab.Null) / span
		for k := range sp.Cadences {
			t := spTot[c][k].Total
			if s >= 0 {
				o := sp.Res[c][k][s].Total
				t = Counts{t.TP - o.TP, t.FP - o.FP, t.FN - o.FN}
			}
			v += t.F1() / float64(len(sp.Cadences))
		}
		return v
	}
	argmax := func(f, s int) int {
		best, bestV := 0, math.Inf(-1)
		for c := range nc {
			if v := objective(c, f, s); v > bestV+1e-12 {
				best, bestV = c, v
			}
		}
		return best
	}
	j := Joint{Best: argmax(-1, -1), Space: make([]Result, len(sp.Cadences))}
	j.PlainNAB = 100 * (nabTot[j.Best] - nab.Null) / span
	j.PlainSpace = spTot[j.Best]
	held := 0.0
	for f := range nab.Files {
		c := argmax(f, -1)
		j.Chosen = append(j.Chosen, c)
		held += nab.Raw[c][f]
	}
	j.NAB = 100 * (held - nab.Null) / span
	for k := range j.Space {
		j.Space[k].Add(Result{})
	}
	for s := range sp.Series {
		c := argmax(-1, s)
		j.Chosen = append(j.Chosen, c)
		for k := range sp.Cadences {
			j.Space[k].Add(sp.Res[c][k][s])
		}
	}
	return j, nil
}
