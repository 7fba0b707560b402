package synthbench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

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
// path hit on the anomaly-free twins (chance), the mechanisms of the first
// flags of false positives and hits, and false positives per series-day per
// family.
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
	fmt.Fprintf(w, "\nmechanism of the first flag: of false positives | of the first hit on each found anomaly\n")
	for _, r := range runs {
		fmt.Fprintf(w, "%-16s %s | %s\n", r.Name, counts(r.FPBy), counts(r.HitBy))
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

// counts lists m's entries, largest first (ties by name), as "k n".
func counts(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}
