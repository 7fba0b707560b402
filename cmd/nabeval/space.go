package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/spaceeval"
)

// spaceHeader and spaceRow print one scored spacecraft run per line.
func spaceHeader(w io.Writer) {
	fmt.Fprintf(w, "%-22s %4s %5s %4s %6s %6s %6s  %-11s %-11s  %s\n", "run", "TP", "FP", "FN", "P", "R", "F1", "point", "contextual", "F1 SMAP / MSL")
}

func spaceRow(w io.Writer, name string, r spaceeval.Result) {
	c := r.Total
	cls := func(k string) string { return fmt.Sprintf("%d/%d", r.Found[k], r.Labelled[k]) }
	fmt.Fprintf(w, "%-22s %4d %5d %4d %6.3f %6.3f %6.3f  %-11s %-11s  %.3f / %.3f\n", name, c.TP, c.FP, c.FN,
		c.Precision(), c.Recall(), c.F1(), cls(spaceeval.Point), cls(spaceeval.Contextual),
		r.BySpacecraft["SMAP"].F1(), r.BySpacecraft["MSL"].F1())
}

// spaceScore scores agctl replay result directories given as
// name=dir,name=dir with telemanom's protocol (no buffer, the service's
// own flags).
func spaceScore(pairs, dir string, w io.Writer) error {
	es, err := spaceeval.LoadMeta(filepath.Join(dir, "meta.json"))
	if err != nil {
		return err
	}
	spaceHeader(w)
	for _, p := range strings.Split(pairs, ",") {
		name, run, ok := strings.Cut(p, "=")
		if !ok {
			return fmt.Errorf("-space-score %q: want name=dir", p)
		}
		flags, err := spaceeval.ReadRun(run, es)
		if err != nil {
			return err
		}
		r, err := spaceeval.Score(es, flags, 0)
		if err != nil {
			return err
		}
		spaceRow(w, name, r)
	}
	return nil
}

// parseCadences reads a comma-separated list of durations.
func parseCadences(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("cadence %q: want a positive duration such as 60s", f)
		}
		if err := spaceeval.CheckCadence(d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// spacePath returns the detector factory of a path ("model" or
// "heuristic", with or without the "flags-" prefix) configured by cfg, a
// JSON object of that detector's Config fields.
func spacePath(path string, cfg []byte) (func() (*detector.Detector, error), error) {
	decode := func(v any) error {
		if len(cfg) == 0 {
			return nil
		}
		return strictJSON(cfg, v)
	}
	switch strings.TrimPrefix(path, "flags-") {
	case "model":
		var m model.Config
		if err := decode(&m); err != nil {
			return nil, fmt.Errorf("model config %s: %w", cfg, err)
		}
		return func() (*detector.Detector, error) { return spaceeval.NewModelPath(m, heuristic.Config{}) }, nil
	case "heuristic":
		var h heuristic.Config
		if err := decode(&h); err != nil {
			return nil, fmt.Errorf("heuristic config %s: %w", cfg, err)
		}
		return func() (*detector.Detector, error) { return spaceeval.NewHeuristicPath(h) }, nil
	}
	return nil, fmt.Errorf("unknown path %q", path)
}

// spaceOffline replays the spacecraft channels in-process through one path
// at each cadence and prints the scores.
func spaceOffline(ctx context.Context, dir, det, cfg string, cadences []time.Duration, workers int, perSeries bool, w io.Writer) error {
	es, err := spaceeval.LoadMeta(filepath.Join(dir, "meta.json"))
	if err != nil {
		return err
	}
	chans, err := spaceeval.LoadChannels(dir, es)
	if err != nil {
		return err
	}
	np, err := spacePath(det, []byte(cfg))
	if err != nil {
		return err
	}
	spaceHeader(w)
	for _, c := range cadences {
		flags, err := spaceeval.Run(ctx, es, chans, c, np, workers)
		if err != nil {
			return err
		}
		r, err := spaceeval.Score(es, flags, 0)
		if err != nil {
			return err
		}
		spaceRow(w, fmt.Sprintf("%s@%v", strings.TrimPrefix(det, "flags-"), c), r)
		if perSeries {
			rows, err := spaceeval.PerSeries(es, flags)
			if err != nil {
				return err
			}
			for i, id := range spaceeval.SeriesOf(es) {
				fmt.Fprintf(w, "    %-10s TP %d FP %3d FN %d  first flags %v\n", id, rows[i].Total.TP, rows[i].Total.FP, rows[i].Total.FN, firstRuns(flags[id], 4))
			}
		}
	}
	return nil
}

// firstRuns lists up to n predicted sequences of flags, for -per-file.
func firstRuns(flags []bool, n int) [][2]int {
	s := spaceeval.Sequences(flags, 0)
	return s[:min(n, len(s))]
}
