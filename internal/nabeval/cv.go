package nabeval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// Table holds per-file raw NAB scores (standard profile) of every candidate
// setting: Raw[c][f] is candidate c's raw score on file f. A candidate is
// one full choice of every tunable constant (a detector configuration and,
// for swept scores, a threshold). Null and Perfect are the corpus' baseline
// raw scores, used to normalise as NAB does.
type Table struct {
	Candidates []string
	Files      []string
	Raw        [][]float64
	Null       float64
	Perfect    float64
}

// CVResult is a leave-one-file-out cross-validation: for each held-out file
// the candidate with the best total raw score on the other files is scored
// on the held-out one, and the held-out scores are pooled and normalised.
type CVResult struct {
	// Score is the cross-validated normalised score (0 null, 100 perfect).
	Score float64
	// Chosen[f] is the candidate chosen without file f.
	Chosen []int
	// Best is the candidate with the best plain (in-sample) total, and
	// Plain its normalised score: the number tuning on all files reports.
	Best  int
	Plain float64
}

// CrossValidate runs leave-one-file-out cross-validation over t. Ties go to
// the lowest candidate index, so the result is deterministic.
func (t *Table) CrossValidate() (CVResult, error) {
	if len(t.Raw) == 0 || len(t.Files) < 2 {
		return CVResult{}, fmt.Errorf("cross-validate: %d candidates, %d files: need at least 1 and 2", len(t.Raw), len(t.Files))
	}
	if !(t.Perfect > t.Null) {
		return CVResult{}, fmt.Errorf("cross-validate: perfect %v not above null %v", t.Perfect, t.Null)
	}
	totals := make([]float64, len(t.Raw))
	for c, row := range t.Raw {
		if len(row) != len(t.Files) {
			return CVResult{}, fmt.Errorf("cross-validate: candidate %d has %d files, want %d", c, len(row), len(t.Files))
		}
		for _, r := range row {
			totals[c] += r
		}
	}
	res := CVResult{Chosen: make([]int, len(t.Files)), Best: argmax(totals, nil)}
	held := 0.0
	for f := range t.Files {
		c := argmax(totals, func(c int) float64 { return -t.Raw[c][f] })
		res.Chosen[f] = c
		held += t.Raw[c][f]
	}
	res.Score = t.normalise(held)
	res.Plain = t.normalise(totals[res.Best])
	return res, nil
}

func (t *Table) normalise(raw float64) float64 { return 100 * (raw - t.Null) / (t.Perfect - t.Null) }

// argmax returns the index of the largest totals[c] + adj(c), the lowest on
// ties (a tolerance keeps float summation order from deciding).
func argmax(totals []float64, adj func(int) float64) int {
	best, bestV := 0, math.Inf(-1)
	for c, v := range totals {
		if adj != nil {
			v += adj(c)
		}
		if v > bestV+1e-9 {
			best, bestV = c, v
		}
	}
	return best
}

// Candidate is one replayed configuration's result directory, scored at each
// of Thresholds (a swept score) or at 0.5 (yes/no flags written as 1/0).
type Candidate struct {
	Name       string
	Dir        string
	Thresholds []float64
}

// ScoreTable scores every candidate at every threshold with one nabscore run
// (a symlinked result directory per candidate and threshold, each scored at
// a fixed threshold) and collects the per-file raw scores of the standard
// profile. work is a scratch directory.
func ScoreTable(ctx context.Context, a ScorerArgs, cands []Candidate, work string) (*Table, error) {
	links := filepath.Join(work, "links")
	if err := os.RemoveAll(links); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(links, 0o755); err != nil {
		return nil, err
	}
	type fixed struct {
		Threshold float64 `json:"threshold"`
	}
	thr := map[string]map[string]fixed{}
	t := &Table{}
	var names []string
	for _, c := range cands {
		abs, err := filepath.Abs(c.Dir)
		if err != nil {
			return nil, err
		}
		for _, th := range c.Thresholds {
			name := fmt.Sprintf("%s@%g", c.Name, th)
			if err := os.Symlink(abs, filepath.Join(links, name)); err != nil {
				return nil, err
			}
			thr[name] = map[string]fixed{"standard": {th}, "reward_low_FP_rate": {th}, "reward_low_FN_rate": {th}}
			names = append(names, name)
			t.Candidates = append(t.Candidates, name)
		}
	}
	// A detector that never fires scores the null baseline on every file.
	thr["null"] = map[string]fixed{"standard": {2}, "reward_low_FP_rate": {2}, "reward_low_FN_rate": {2}}
	if len(cands) > 0 {
		abs, _ := filepath.Abs(cands[0].Dir)
		if err := os.Symlink(abs, filepath.Join(links, "null")); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(thr)
	if err != nil {
		return nil, err
	}
	thrFile := filepath.Join(work, "thresholds.json")
	if err := os.WriteFile(thrFile, b, 0o644); err != nil {
		return nil, err
	}
	a.Results, a.Name, a.PerFile = links, "", true
	out, err := RunScorer(ctx, a, "-detectors", strings.Join(append(names, "null"), ","), "-thresholds-in", thrFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, out)
	}
	per, err := parsePerFile(out)
	if err != nil {
		return nil, err
	}
	nullRow, ok := per["null"]
	if !ok {
		return nil, fmt.Errorf("nabscore printed no per-file scores for the null detector")
	}
	for f := range nullRow {
		t.Files = append(t.Files, f)
	}
	sort.Strings(t.Files)
	for _, f := range t.Files {
		t.Null += nullRow[f]
	}
	t.Perfect, err = perfectFrom(out, a.Profiles)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		row := make([]float64, len(t.Files))
		for i, f := range t.Files {
			v, ok := per[name][f]
			if !ok {
				return nil, fmt.Errorf("nabscore printed no score for %s on %s", name, f)
			}
			row[i] = v
		}
		t.Raw = append(t.Raw, row)
	}
	return t, nil
}

// parsePerFile reads nabscore -per-file output: a summary line per detector
// and profile, then one indented line per file. It keeps the standard
// profile: per[detector][file] = raw.
func parsePerFile(out []byte) (map[string]map[string]float64, error) {
	per := map[string]map[string]float64{}
	var cur map[string]float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case strings.HasPrefix(line, "    "):
			if cur == nil {
				continue
			}
			if len(fields) < 2 {
				return nil, fmt.Errorf("nabscore per-file line %q: want a file and a score", line)
			}
			v, err := strconv.ParseFloat(fields[1], 64)
			if err != nil {
				return nil, fmt.Errorf("nabscore per-file line %q: %v", line, err)
			}
			cur[fields[0]] = v
		case len(fields) >= 7 && fields[1] == "standard":
			cur = map[string]float64{}
			per[fields[0]] = cur
		default:
			cur = nil
		}
	}
	return per, sc.Err()
}

// perfectFrom computes the perfect raw score as nabscore does: every
// labelled window detected at the earliest moment, worth the profile's TP
// weight each. The window count comes from nabscore's corpus line.
func perfectFrom(out []byte, profiles string) (float64, error) {
	var files, windows int
	if _, err := fmt.Sscanf(string(out), "corpus: %d files, %d windows", &files, &windows); err != nil {
		return 0, fmt.Errorf("nabscore corpus line: %w", err)
	}
	b, err := smallfile.Read(profiles, 16<<20)
	if err != nil {
		return 0, err
	}
	var p map[string]struct {
		CostMatrix struct {
			TP float64 `json:"tpWeight"`
		}
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return 0, fmt.Errorf("parse %s: %w", profiles, err)
	}
	tp, ok := p["standard"]
	if !ok {
		return 0, fmt.Errorf("%s has no standard profile", profiles)
	}
	return tp.CostMatrix.TP * float64(windows), nil
}
