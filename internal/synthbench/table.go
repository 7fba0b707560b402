package synthbench

import (
	"fmt"
	"io"

	"github.com/astraguard/astraguard/internal/synth"
)

// Named is a Report with the run's name, e.g. "model@1m0s", and
// optionally the same path's report on the anomaly-free twins (LoadTwins).
type Named struct {
	Name string
	Report
	Chance *Report
}

// Table writes runs side by side: the totals (telemanom's counts,
// precision, recall, F1, false positives per series-day over all series and
// over the anomaly-free ones), recall per anomaly type with the found count
// per size (hard, medium, easy) and, where a run has one, the labels its
// path hit on the anomaly-free twins (chance), and false positives per
// series-day per family.
func Table(w io.Writer, runs []Named) {
	fmt.Fprintf(w, "%-16s %5s %5s %5s %6s %6s %6s %8s %8s\n", "run", "TP", "FP", "FN", "P", "R", "F1", "FP/day", "clean")
	for _, r := range runs {
		c := r.Total
		fmt.Fprintf(w, "%-16s %5d %5d %5d %6.3f %6.3f %6.3f %8.3f %8.3f\n", r.Name, c.TP, c.FP, c.FN,
			c.Precision(), c.Recall(), c.F1(), r.FPPerDay(), ratio(float64(r.CleanFP), r.CleanDays))
	}
	fmt.Fprintf(w, "\nrecall by anomaly type: found/labelled (found per size: hard medium easy) ~ labels hit on the anomaly-free twins (chance)\n%-10s", "type")
	for _, r := range runs {
		fmt.Fprintf(w, " %-23s", r.Name)
	}
	fmt.Fprintln(w)
	for _, k := range synth.Kinds {
		if k == synth.NoAnomaly {
			continue
		}
		fmt.Fprintf(w, "%-10s", k)
		for _, r := range runs {
			f, l := r.Recall(k)
			s := r.Found[k]
			cell := fmt.Sprintf("%d/%d (%d %d %d)", f, l, s[0], s[1], s[2])
			if r.Chance != nil {
				c, _ := r.Chance.Recall(k)
				cell += fmt.Sprintf(" ~%d", c)
			}
			fmt.Fprintf(w, " %-23s", cell)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nfalse positives per series-day by family (all series of the family)\n%-10s", "family")
	for _, r := range runs {
		fmt.Fprintf(w, " %-23s", r.Name)
	}
	fmt.Fprintln(w)
	for _, f := range synth.Families {
		fmt.Fprintf(w, "%-10s", f)
		for _, r := range runs {
			fmt.Fprintf(w, " %-23s", fmt.Sprintf("%.3f", ratio(float64(r.FP[f]), r.Days[f])))
		}
		fmt.Fprintln(w)
	}
}
