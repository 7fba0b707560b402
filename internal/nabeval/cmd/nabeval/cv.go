package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/astraguard/astraguard/internal/nabeval"
)

// cvSpec is internal/nabeval/cv.json: the candidate configurations of each
// path, the thresholds a swept score may choose from, and the floors.
type cvSpec struct {
	Thresholds []float64                    `json:"thresholds"`
	Grid       map[string][]json.RawMessage `json:"grid"`
	Floors     map[string]float64           `json:"floors"`
}

func loadSpec(path string) (*cvSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s cvSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	for _, p := range []string{"model", "heuristic"} {
		if len(s.Grid[p]) == 0 {
			return nil, fmt.Errorf("%s: no grid for %s", path, p)
		}
		for _, k := range []string{p, p + "_flags"} {
			if _, ok := s.Floors[k]; !ok {
				return nil, fmt.Errorf("%s: no floor for %s", path, k)
			}
		}
	}
	if len(s.Thresholds) == 0 {
		return nil, fmt.Errorf("%s: no thresholds", path)
	}
	return &s, nil
}

// crossValidate replays every candidate configuration of both paths,
// scores them with nabscore and prints plain and leave-one-file-out
// cross-validated scores. It fails when a cross-validated score is below
// its floor.
func crossValidate(ctx context.Context, spec *cvSpec, files []*nabeval.File, sa nabeval.ScorerArgs, work string, workers int, w io.Writer) error {
	var below []string
	for _, path := range []string{"model", "heuristic"} {
		for i, cfg := range spec.Grid[path] {
			fmt.Fprintf(w, "%s candidate c%d: %s\n", path, i, cfg)
		}
	}
	fmt.Fprintf(w, "%-16s %7s %7s %7s  %s\n", "path", "plain", "cv", "floor", "candidates chosen (plain: on all files; cv: per held-out file)")
	for _, path := range []string{"model", "heuristic"} {
		var score, flags []nabeval.Candidate
		for i, cfg := range spec.Grid[path] {
			for _, fl := range []bool{false, true} {
				det := path
				if fl {
					det = "flags-" + path
				}
				ns, err := streams(det, string(cfg))
				if err != nil {
					return fmt.Errorf("%s candidate %d %s: %w", path, i, cfg, err)
				}
				dir := filepath.Join(work, det, fmt.Sprint(i))
				if err := nabeval.Run(files, ns, dir, workers); err != nil {
					return err
				}
				c := nabeval.Candidate{Name: fmt.Sprintf("c%d", i), Dir: dir, Thresholds: spec.Thresholds}
				if fl {
					c.Thresholds = []float64{0.5}
					flags = append(flags, c)
				} else {
					score = append(score, c)
				}
			}
		}
		for _, run := range []struct {
			name  string
			cands []nabeval.Candidate
		}{{path, score}, {path + "_flags", flags}} {
			t, err := nabeval.ScoreTable(ctx, sa, run.cands, filepath.Join(work, "score", run.name))
			if err != nil {
				return fmt.Errorf("%s: %w", run.name, err)
			}
			r, err := t.CrossValidate()
			if err != nil {
				return fmt.Errorf("%s: %w", run.name, err)
			}
			floor := spec.Floors[run.name]
			fmt.Fprintf(w, "%-16s %7.1f %7.1f %7.1f  plain best %s; %s\n", run.name, r.Plain, r.Score, floor,
				t.Candidates[r.Best], choices(t, r))
			if sa.PerFile {
				for f, c := range r.Chosen {
					fmt.Fprintf(w, "    %-58s held out: %-10s %8.4f   plain best: %8.4f\n", t.Files[f], t.Candidates[c], t.Raw[c][f], t.Raw[r.Best][f])
				}
			}
			if r.Score < floor {
				below = append(below, fmt.Sprintf("%s %.1f < %.1f", run.name, r.Score, floor))
			}
		}
	}
	if len(below) > 0 {
		return fmt.Errorf("cross-validated score below floor: %v", below)
	}
	return nil
}

// choices summarises which candidates the folds chose, most frequent first.
func choices(t *nabeval.Table, r nabeval.CVResult) string {
	n := map[int]int{}
	for _, c := range r.Chosen {
		n[c]++
	}
	keys := make([]int, 0, len(n))
	for c := range n {
		keys = append(keys, c)
	}
	slices.SortFunc(keys, func(a, b int) int { return n[b] - n[a] })
	s := ""
	for _, c := range keys {
		s += fmt.Sprintf(" %s x%d", t.Candidates[c], n[c])
	}
	return "folds chose" + s
}
