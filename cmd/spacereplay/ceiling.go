package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/astraguard/astraguard/internal/ceiling"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/nabeval"
	"github.com/astraguard/astraguard/internal/spaceeval"
)

// ceilingTable prints the ceiling study's tables (markdown): each
// predictor's pooled counts under telemanom's thresholding, with no scoring
// buffer, then its F1 under each thresholding variant with no buffer and
// with telemanom's 100, and per variant the predictor chosen by grouped
// cross-validation (each channel scored with the predictor that has the
// best F1, no buffer, on the other channels), among the offline predictors
// and among the budgeted online kNN memories; and the model's own flags at
// 60 s beside the same with the rows telemanom never judges removed.
func ceilingTable(w io.Writer, metas []spaceeval.Entry, files map[string]*nabeval.File, detail bool) error {
	values := map[string][]float64{}
	for name, f := range files {
		values[name] = f.Values
	}
	preds := []ceiling.Predictor{
		ceiling.Persistence{},
		ceiling.AR{P: 10, Ridge: 1e-3},
		ceiling.AR{P: 50, Ridge: 1e-3},
		ceiling.AR{P: 250, Ridge: 1e-3},
		ceiling.AR{P: 10, Ridge: 1e-5},
		ceiling.KNN{W: 10, K: 5},
		ceiling.KNN{W: 10, K: 1},
		ceiling.KNN{W: 10, K: 10},
		ceiling.KNN{W: 5, K: 5},
		ceiling.KNN{W: 20, K: 5},
		ceiling.KNN{W: 30, K: 5},
	}
	// The online kNN, learned from the stream: the budgeted memories
	// (cross-validated apart from the offline predictors), then references
	// and spreads outside the cross-validation: every window (no bound),
	// the first reservoir frozen after the train split (a bound, not
	// online), and that reservoir's other seeds.
	offline := len(preds)
	budget := ceiling.Budgeted()
	for _, o := range budget {
		preds = append(preds, o)
	}
	first := budget[0]
	frozen := first
	frozen.Frozen = true
	preds = append(preds, ceiling.OnlineKNN{W: 10, K: 5, Bits: 32}, frozen)
	for _, o := range ceiling.Seeds(first, 5) {
		preds = append(preds, o)
	}
	tm, stale, causal, causal10 := ceiling.Telemanom(), ceiling.Telemanom(), ceiling.Telemanom(), ceiling.Telemanom()
	stale.Stale = true
	causal.Causal = true
	causal10.Causal, causal10.BatchSize, causal10.WindowSize = true, 10, 210
	variants := []ceiling.Params{tm, stale, causal, causal10}
	names := []string{"telemanom", "telemanom 2018", "causal, batch 70", "causal, batch 10"}
	buffers := []int{0, 100}
	rows, err := ceiling.Study(metas, values, preds, variants, buffers)
	if err != nil {
		return err
	}
	at := func(k, v, b int) ceiling.Row { return rows[(k*len(variants)+v)*len(buffers)+b] }
	fmt.Fprintln(w, "Thresholding: telemanom (no scoring buffer)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| predictor | TP | FP | FN | P | R | F1 | recall by class |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for k := range preds {
		r := at(k, 0, 0)
		t := r.Result.Total
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.3f | %.3f | %.3f | %s |\n",
			r.Predictor, t.TP, t.FP, t.FN, t.Precision(), t.Recall(), t.F1(), clsString(r.Result))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "F1 per thresholding variant, no buffer / buffer 100")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| predictor | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for k, pr := range preds {
		fmt.Fprintf(w, "| %s |", pr)
		for v := range variants {
			fmt.Fprintf(w, " %.3f / %.3f |", at(k, v, 0).Result.Total.F1(), at(k, v, 1).Result.Total.F1())
		}
		fmt.Fprintln(w)
	}
	cvs := []struct {
		name   string
		lo, hi int
	}{{"offline predictors", 0, offline}, {"budgeted online kNN", offline, offline + len(budget)}}
	var picks []string
	for _, cv := range cvs {
		fmt.Fprintf(w, "| grouped CV over the %s |", cv.name)
		for v, name := range names {
			var cand [][]spaceeval.Counts
			for k := cv.lo; k < cv.hi; k++ {
				cand = append(cand, at(k, v, 0).Entries)
			}
			t, chosen := groupedCV(metas, cand)
			fmt.Fprintf(w, " %.3f (P %.3f R %.3f) |", t.F1(), t.Precision(), t.Recall())
			var ps []string
			for _, k := range slices.Sorted(maps.Keys(chosen)) {
				ps = append(ps, fmt.Sprintf("%s %d", preds[cv.lo+k], chosen[k]))
			}
			picks = append(picks, cv.name+", "+name+": "+strings.Join(ps, ", "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Chosen by the cross-validation (folds):")
	for _, p := range picks {
		fmt.Fprintln(w, "- "+p)
	}
	if detail {
		for _, v := range []int{0, 2} {
			fmt.Fprintf(w, "\nPer label row, %s: TP/FP/FN\n\n| series | classes |", names[v])
			for _, pr := range preds {
				fmt.Fprintf(w, " %s |", pr)
			}
			fmt.Fprintf(w, "\n|---|---|%s\n", strings.Repeat("---|", len(preds)))
			for i, m := range metas {
				fmt.Fprintf(w, "| %s | %s |", m.Series, m.ClassText)
				for k := range preds {
					c := at(k, v, 0).Entries[i]
					fmt.Fprintf(w, " %d/%d/%d |", c.TP, c.FP, c.FN)
				}
				fmt.Fprintln(w)
			}
		}
	}
	// The model's own flags, and the same with the flags on test rows
	// telemanom never judges (the first l_s and ignored rows, the last
	// Horizon) removed: what the warm-up rule alone is worth.
	res, err := replay(files, model.Config{}, time.Minute)
	if err != nil {
		return err
	}
	var own, masked spaceeval.Result
	for _, m := range metas {
		flags := make([]bool, m.NTest)
		for i, v := range res[m.Series][m.NTrain:] {
			flags[i] = v.flag
		}
		own.Add(spaceeval.ScoreEntry(m, flags, 0))
		from, to := tm.Judged(m.NTest)
		for i := range flags {
			flags[i] = flags[i] && i >= from && i < to
		}
		masked.Add(spaceeval.ScoreEntry(m, flags, 0))
	}
	fmt.Fprintln(w)
	for _, r := range []struct {
		name string
		res  spaceeval.Result
	}{{"model path, own flags, 60 s", own}, {"the same, flags on rows telemanom never judges removed", masked}} {
		t := r.res.Total
		fmt.Fprintf(w, "%s: TP=%d FP=%d FN=%d P=%.3f R=%.3f F1=%.3f recall %s\n", r.name, t.TP, t.FP, t.FN, t.Precision(), t.Recall(), t.F1(), clsString(r.res))
	}
	return nil
}
