package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/astraguard/astraguard/internal/nabeval"
	"github.com/astraguard/astraguard/internal/smallfile"
	"github.com/astraguard/astraguard/internal/spaceeval"
)

// cvSpec is internal/nabeval/cv.json: the candidate configurations of each
// path, the thresholds a swept score may choose from, and the floors.
type cvSpec struct {
	Thresholds []float64                    `json:"thresholds"`
	Grid       map[string][]json.RawMessage `json:"grid"`
	Floors     map[string]float64           `json:"floors"`
	// SpaceCadences are the cadences the spacecraft channels are replayed
	// at; SpaceFloors[path][cadence] the cross-validated F1 each must reach.
	SpaceCadences []string                      `json:"space_cadences"`
	SpaceFloors   map[string]map[string]float64 `json:"space_floors"`
}

func loadSpec(path string) (*cvSpec, error) {
	b, err := smallfile.Read(path, 16<<20)
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
	if _, err := parseCadences(strings.Join(s.SpaceCadences, ",")); err != nil {
		return nil, fmt.Errorf("%s: space_cadences: %w", path, err)
	}
	for _, p := range []string{"model", "heuristic"} {
		for _, c := range s.SpaceCadences {
			if _, ok := s.SpaceFloors[p][c]; !ok {
				return nil, fmt.Errorf("%s: no space_floors for %s at %s", path, p, c)
			}
		}
	}
	return &s, nil
}

// spaceData is the spacecraft corpus the cross-validation replays.
type spaceData struct {
	es    []spaceeval.Entry
	chans map[string][]float64
}

func loadSpace(dir string) (*spaceData, error) {
	es, err := spaceeval.LoadMeta(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil, err
	}
	chans, err := spaceeval.LoadChannels(dir, es)
	if err != nil {
		return nil, err
	}
	return &spaceData{es, chans}, nil
}

// crossValidate replays every candidate configuration of both paths on
// both corpora, scores them (nabscore; telemanom's protocol) and prints
// plain and cross-validated scores: for the swept score, leave one NAB
// file out; for the detector's own flags, one fold per NAB file and per
// spacecraft channel over both corpora together (spaceeval.CrossValidate).
// It fails when a cross-validated score is below its floor.
//
// With syn, the flags are also cross-validated with the generated corpus
// as a third group (synthJointReport); the floors apply as without it.
func crossValidate(ctx context.Context, spec *cvSpec, files []*nabeval.File, sd *spaceData, syn *synthData, sa nabeval.ScorerArgs, work string, workers int, w io.Writer) error {
	var below []string
	for _, path := range []string{"model", "heuristic"} {
		for i, cfg := range spec.Grid[path] {
			fmt.Fprintf(w, "%s candidate c%d: %s\n", path, i, cfg)
		}
	}
	cads, err := parseCadences(strings.Join(spec.SpaceCadences, ","))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-16s %7s %7s %7s  %s\n", "path", "plain", "cv", "floor", "candidates chosen (plain: on all files; cv: per held-out file)")
	for _, path := range []string{"model", "heuristic"} {
		var score, flags []nabeval.Candidate
		sp := &spaceeval.Table{Series: spaceeval.SeriesOf(sd.es), Cadences: spec.SpaceCadences}
		var st *spaceeval.Table
		if syn != nil {
			st = &spaceeval.Table{Series: syn.ids, Cadences: spec.SpaceCadences}
		}
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
			row, err := spaceRows(ctx, sd, path, cfg, cads, workers)
			if err != nil {
				return fmt.Errorf("%s candidate %d %s: %w", path, i, cfg, err)
			}
			sp.Res = append(sp.Res, row)
			if st != nil {
				row, err := synthRows(ctx, syn, path, cfg, cads, workers)
				if err != nil {
					return fmt.Errorf("%s candidate %d %s on the generated corpus: %w", path, i, cfg, err)
				}
				st.Res = append(st.Res, row)
			}
		}
		tables := map[string]*nabeval.Table{}
		for _, run := range []struct {
			name  string
			cands []nabeval.Candidate
		}{{path, score}, {path + "_flags", flags}} {
			t, err := nabeval.ScoreTable(ctx, sa, run.cands, filepath.Join(work, "score", run.name))
			if err != nil {
				return fmt.Errorf("%s: %w", run.name, err)
			}
			tables[run.name] = t
			if run.name != path {
				continue // the flags are cross-validated jointly below
			}
			r, err := t.CrossValidate()
			if err != nil {
				return fmt.Errorf("%s: %w", run.name, err)
			}
			floor := spec.Floors[run.name]
			fmt.Fprintf(w, "%-16s %7.1f %7.1f %7.1f  plain best %s; %s\n", run.name, r.Plain, r.Score, floor,
				t.Candidates[r.Best], choices(t.Candidates, r.Chosen))
			if sa.PerFile {
				for f, c := range r.Chosen {
					fmt.Fprintf(w, "    %-58s held out: %-10s %8.4f   plain best: %8.4f\n", t.Files[f], t.Candidates[c], t.Raw[c][f], t.Raw[r.Best][f])
				}
			}
			if r.Score < floor {
				below = append(below, fmt.Sprintf("%s %.1f < %.1f", run.name, r.Score, floor))
			}
		}
		b, err := jointReport(w, spec, path, tables[path+"_flags"], sp)
		if err != nil {
			return err
		}
		below = append(below, b...)
		if st != nil {
			if err := synthJointReport(w, path, tables[path+"_flags"], sp, st); err != nil {
				return err
			}
		}
	}
	if len(below) > 0 {
		return fmt.Errorf("cross-validated score below floor: %v", below)
	}
	return nil
}

// spaceRows replays the spacecraft channels through one candidate at each
// cadence and scores each series on its own.
func spaceRows(ctx context.Context, sd *spaceData, path string, cfg []byte, cads []time.Duration, workers int) ([][]spaceeval.Result, error) {
	np, err := spacePath(path, cfg)
	if err != nil {
		return nil, err
	}
	var out [][]spaceeval.Result
	for _, c := range cads {
		flags, err := spaceeval.Run(ctx, sd.es, sd.chans, c, np, workers)
		if err != nil {
			return nil, err
		}
		rows, err := spaceeval.PerSeries(sd.es, flags)
		if err != nil {
			return nil, err
		}
		out = append(out, rows)
	}
	return out, nil
}

// jointReport cross-validates a path's own flags over both corpora, prints
// the NAB score and the spacecraft table, and returns the floors missed.
func jointReport(w io.Writer, spec *cvSpec, path string, nab *nabeval.Table, sp *spaceeval.Table) ([]string, error) {
	j, err := spaceeval.CrossValidate(nab, sp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var below []string
	name := path + "_flags"
	floor := spec.Floors[name]
	fmt.Fprintf(w, "%-16s %7.1f %7.1f %7.1f  plain best c%d; %s (folds: NAB files and spacecraft channels)\n", name, j.PlainNAB, j.NAB, floor,
		j.Best, choices(nab.Candidates, j.Chosen))
	if j.NAB < floor {
		below = append(below, fmt.Sprintf("%s %.1f < %.1f", name, j.NAB, floor))
	}
	for k, c := range sp.Cadences {
		floor := spec.SpaceFloors[path][c]
		r := j.Space[k]
		fmt.Fprintf(w, "  spacecraft %-9s %-5s plain F1 %.3f, cv P %.3f R %.3f F1 %.3f (floor %.3f), recall point %d/%d contextual %d/%d\n",
			path, c, j.PlainSpace[k].Total.F1(), r.Total.Precision(), r.Total.Recall(), r.Total.F1(), floor,
			r.Found[spaceeval.Point], r.Labelled[spaceeval.Point], r.Found[spaceeval.Contextual], r.Labelled[spaceeval.Contextual])
		if r.Total.F1() < floor {
			below = append(below, fmt.Sprintf("spacecraft %s %s F1 %.3f < %.3f", path, c, r.Total.F1(), floor))
		}
	}
	return below, nil
}

// choices summarises which candidates the folds chose, most frequent first.
func choices(names []string, chosen []int) string {
	n := map[int]int{}
	for _, c := range chosen {
		n[c]++
	}
	keys := make([]int, 0, len(n))
	for c := range n {
		keys = append(keys, c)
	}
	slices.SortFunc(keys, func(a, b int) int { return n[b] - n[a] })
	s := ""
	for _, c := range keys {
		s += fmt.Sprintf(" %s x%d", names[c], n[c])
	}
	return "folds chose" + s
}
