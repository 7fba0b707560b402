package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/astraguard/astraguard/internal/nabeval"
	"github.com/astraguard/astraguard/internal/spaceeval"
	"github.com/astraguard/astraguard/internal/synth"
	"github.com/astraguard/astraguard/internal/synthbench"
)

// synthTable generates the labelled corpus of internal/synth at each
// cadence, replays it in-process through both paths at their default
// settings (as the service wires them) and prints the per-type table,
// with the labels each path hits on the anomaly-free twins (chance). With
// a configuration (cfg, for path det), only that path runs, so configured.
func synthTable(ctx context.Context, seed uint64, det, cfg string, cadences []time.Duration, workers int, w io.Writer) error {
	var runs []synthbench.Named
	paths := []string{"model", "heuristic"}
	if cfg != "" {
		paths = []string{strings.TrimPrefix(det, "flags-")}
	}
	for _, path := range paths {
		np, err := spacePath(path, []byte(cfg))
		if err != nil {
			return err
		}
		for _, c := range cadences {
			series, err := synthbench.Load(seed, c)
			if err != nil {
				return err
			}
			r, _, err := synthbench.Run(ctx, series, c, np, workers)
			if err != nil {
				return fmt.Errorf("%s at %v: %w", path, c, err)
			}
			twins, err := synthbench.LoadTwins(seed, c)
			if err != nil {
				return err
			}
			chance, _, err := synthbench.Run(ctx, twins, c, np, workers)
			if err != nil {
				return fmt.Errorf("%s at %v, twins: %w", path, c, err)
			}
			runs = append(runs, synthbench.Named{Name: fmt.Sprintf("%s@%v", path, c), Report: r, Chance: &chance})
		}
	}
	synthbench.Table(w, runs)
	return nil
}

// synthData is the generated corpus the cross-validation replays, per
// cadence, in corpus order.
type synthData struct {
	ids    []string
	series map[time.Duration][]synth.Labelled
}

func loadSynth(seed uint64, cadences []string) (*synthData, error) {
	cads, err := parseCadences(strings.Join(cadences, ","))
	if err != nil {
		return nil, err
	}
	d := &synthData{series: map[time.Duration][]synth.Labelled{}}
	for _, c := range cads {
		if d.series[c], err = synthbench.Load(seed, c); err != nil {
			return nil, err
		}
	}
	for _, l := range d.series[cads[0]] {
		d.ids = append(d.ids, l.ID())
	}
	return d, nil
}

// synthRows replays the generated corpus through one candidate at each
// cadence and scores each series on its own.
func synthRows(ctx context.Context, d *synthData, path string, cfg []byte, cads []time.Duration, workers int) ([][]spaceeval.Result, error) {
	np, err := spacePath(path, cfg)
	if err != nil {
		return nil, err
	}
	var out [][]spaceeval.Result
	for _, c := range cads {
		_, flags, err := synthbench.Run(ctx, d.series[c], c, np, workers)
		if err != nil {
			return nil, err
		}
		rows, err := synthbench.PerSeries(d.series[c], flags)
		if err != nil {
			return nil, err
		}
		out = append(out, rows)
	}
	return out, nil
}

// synthJointReport cross-validates a path's flags over NAB, the spacecraft
// channels and the generated corpus together (one fold per file, channel
// and generated series), prints the held-out scores of each, and which
// candidates each group's folds chose with and without the corpus.
func synthJointReport(w io.Writer, path string, nab *nabeval.Table, sp, st *spaceeval.Table) error {
	two, err := spaceeval.CrossValidate(nab, sp)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	three, err := spaceeval.CrossValidate(nab, sp, st)
	if err != nil {
		return fmt.Errorf("%s with the generated corpus: %w", path, err)
	}
	nf, ns := len(nab.Files), len(sp.Series)
	fmt.Fprintf(w, "%-16s with the generated corpus as a third group (%d series): plain best c%d (without it c%d), cv NAB %.1f (without it %.1f)\n",
		path+"_flags", len(st.Series), three.Best, two.Best, three.NAB, two.NAB)
	for k, c := range sp.Cadences {
		fmt.Fprintf(w, "  %-5s cv F1 spacecraft %.3f (without it %.3f), generated %.3f (plain %.3f)\n", c,
			three.Space[k].Total.F1(), two.Space[k].Total.F1(), three.Extra[0][k].Total.F1(), three.PlainExtra[0][k].Total.F1())
	}
	fmt.Fprintf(w, "  generated F1 per candidate (plain, %s):", strings.Join(st.Cadences, " / "))
	for c, res := range st.Res {
		fmt.Fprintf(w, " c%d", c)
		for k, row := range res {
			var t spaceeval.Counts
			for _, r := range row {
				t = t.Add(r.Total)
			}
			sep := "/"
			if k == 0 {
				sep = " "
			}
			fmt.Fprintf(w, "%s%.3f", sep, t.F1())
		}
	}
	fmt.Fprintln(w)
	changed := 0
	for g := range nf + ns {
		if two.Chosen[g] != three.Chosen[g] {
			changed++
		}
	}
	fmt.Fprintf(w, "  NAB file folds: %s (without it: %s)\n", choices(nab.Candidates, three.Chosen[:nf]), choices(nab.Candidates, two.Chosen[:nf]))
	fmt.Fprintf(w, "  spacecraft folds: %s (without it: %s)\n", choices(nab.Candidates, three.Chosen[nf:nf+ns]), choices(nab.Candidates, two.Chosen[nf:]))
	fmt.Fprintf(w, "  generated-series folds: %s; %d of %d NAB and spacecraft folds chose differently with the corpus\n",
		choices(nab.Candidates, three.Chosen[nf+ns:]), changed, nf+ns)
	return nil
}
