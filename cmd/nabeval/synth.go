package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/astraguard/astraguard/internal/synthbench"
)

// synthTable generates the labelled corpus of internal/synth at each
// cadence, replays it in-process through both paths at their default
// settings (as the service wires them) and prints the per-type table,
// with the labels each path hits on the anomaly-free twins (chance).
func synthTable(ctx context.Context, seed uint64, cadences []time.Duration, workers int, w io.Writer) error {
	var runs []synthbench.Named
	for _, path := range []string{"model", "heuristic"} {
		np, err := spacePath(path, nil)
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
