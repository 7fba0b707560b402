// Command nabeval replays the NAB development subset through one of
// AstraGuard's detectors, writes NAB result files and prints nabscore's
// verdict.
//
//	go build -C ../shared/nab/nabscore -o "$PWD/bin/nabscore" .
//	go run ./cmd/nabeval -detector model
//
// -config takes the detector's Config as JSON, for tuning without edits,
// e.g. -config '{"Suppress":200}'. -cv internal/nabeval/cv.json instead
// cross-validates both paths (leave one file out) over the candidate
// configurations in that file and fails below its floors. -synth scores
// both paths on the generated labelled corpus (internal/synthbench).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/nabeval"
	"github.com/astraguard/astraguard/internal/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "nabeval:", err)
		os.Exit(1)
	}
}

// maxWorkers bounds -j: each worker replays a file with its own detector.
const maxWorkers = 64

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("nabeval", flag.ContinueOnError)
	nab := fs.String("nab", "../shared/nab", "NAB subset dir (data/, dev_windows.json, profiles.json)")
	det := fs.String("detector", "model", "model | heuristic | flags-model | flags-heuristic (flags: the detector's own Anomaly as 1/0)")
	cfgJSON := fs.String("config", "", "detector Config as JSON")
	results := fs.String("results", "", "results dir (with -cv: emptied first; default: a fresh temporary directory, removed afterwards, so runs side by side never share one)")
	bin := fs.String("nabscore", "bin/nabscore", "nabscore binary")
	perFile := fs.Bool("per-file", false, "print per-file raw scores (with -cv: each fold's choice and held-out score)")
	workers := fs.Int("j", 2, "files replayed in parallel")
	cv := fs.String("cv", "", "cross-validate both paths over the candidates and floors in this JSON file (e.g. internal/nabeval/cv.json) instead of scoring -detector")
	cadence := fs.Bool("cadence", false, "print the detection delay and false positives per day of -detector's path (model or heuristic) on generated series at 1 s, 1 min, 5 min and 1 h (internal/synth) instead of scoring it")
	space := fs.String("space", "../shared/spacecraft", "spacecraft folder (meta.json, SMAP/, MSL/)")
	spaceScoreRuns := fs.String("space-score", "", "score agctl replay result dirs of the spacecraft channels, name=dir[,name=dir...], with telemanom's protocol, instead of scoring -detector")
	spaceOff := fs.Bool("space-offline", false, "replay the spacecraft channels in-process through -detector (model or heuristic path, as the service wires it) at each -space-cadence and score them, instead of NAB")
	spaceCad := fs.String("space-cadence", "60s,300s", "cadences the spacecraft rows are restamped at (comma-separated); with -synth, the cadences the corpus is generated at")
	synthRun := fs.Bool("synth", false, "score both paths (default settings, in-process as the service wires them) on the generated labelled corpus of internal/synth at each -space-cadence with telemanom's protocol: recall per anomaly type and size, false positives per series-day, instead of NAB; with -config, only -detector's path, so configured")
	synthSeed := fs.Uint64("synth-seed", 1, "the generated corpus' seed (-synth, -cv-synth)")
	cvSynth := fs.Bool("cv-synth", false, "with -cv: also cross-validate the flags with the generated corpus as a third group (one fold per series) and report whether the folds' choices change; the floors still apply to NAB and the spacecraft channels only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case !slices.Contains([]string{"model", "heuristic", "flags-model", "flags-heuristic"}, *det):
		return fmt.Errorf("-detector %q: want model, heuristic, flags-model or flags-heuristic", *det)
	case *workers < 1 || *workers > maxWorkers:
		return fmt.Errorf("-j %d outside [1, %d]", *workers, maxWorkers)
	}
	if *spaceScoreRuns != "" {
		return spaceScore(*spaceScoreRuns, *space, stdout)
	}
	cads, err := parseCadences(*spaceCad)
	if err != nil {
		return err
	}
	if *synthRun {
		return synthTable(ctx, *synthSeed, *det, *cfgJSON, cads, *workers, stdout)
	}
	if *spaceOff {
		return spaceOffline(ctx, *space, *det, *cfgJSON, cads, *workers, *perFile, stdout)
	}
	if *cadence {
		return cadenceTable(*det, *cfgJSON, stdout)
	}
	nabArgs := nabeval.ScorerArgs{
		Bin: *bin, Data: filepath.Join(*nab, "data"), Labels: filepath.Join(*nab, "dev_windows.json"),
		Profiles: filepath.Join(*nab, "profiles.json"), PerFile: *perFile,
	}
	if *cv != "" {
		spec, err := loadSpec(*cv)
		if err != nil {
			return err
		}
		files, err := nabeval.LoadDir(nabArgs.Data)
		if err != nil {
			return err
		}
		if *results != "" {
			if err := os.RemoveAll(*results); err != nil {
				return err
			}
		}
		dir, cleanup, err := resultsDir(*results)
		if err != nil {
			return err
		}
		defer cleanup()
		*results = dir
		sd, err := loadSpace(*space)
		if err != nil {
			return err
		}
		var syn *synthData
		if *cvSynth {
			if syn, err = loadSynth(*synthSeed, spec.SpaceCadences); err != nil {
				return err
			}
		}
		return crossValidate(ctx, spec, files, sd, syn, nabArgs, *results, *workers, stdout)
	}
	newStream, err := streams(*det, *cfgJSON)
	if err != nil {
		return err
	}
	dir, cleanup, err := resultsDir(*results)
	if err != nil {
		return err
	}
	defer cleanup()
	*results = dir
	files, err := nabeval.LoadDir(nabArgs.Data)
	if err != nil {
		return err
	}
	if err := nabeval.Run(files, newStream, *results, *workers); err != nil {
		return err
	}
	nabArgs.Results, nabArgs.Name = *results, *det
	out, err := nabeval.RunScorer(ctx, nabArgs)
	stdout.Write(out)
	return err
}

// cadenceTable runs internal/synth's scenarios through the model, or
// through the heuristic when det names it (heuristic, flags-heuristic),
// configured by cfgJSON.
func cadenceTable(det, cfgJSON string, w io.Writer) error {
	if strings.TrimPrefix(det, "flags-") == "heuristic" {
		var cfg heuristic.Config
		if err := decodeConfig(cfgJSON, &cfg); err != nil {
			return err
		}
		h, err := heuristic.New(cfg)
		if err != nil {
			return err
		}
		synth.Table(w, synth.Run(func() synth.Detect {
			st := h.NewState("synth")
			return func(t int64, v float64) bool { return h.Score(&st, t, v).Anomaly }
		}))
		return nil
	}
	var cfg model.Config
	if err := decodeConfig(cfgJSON, &cfg); err != nil {
		return err
	}
	if _, err := model.NewDetector(cfg); err != nil {
		return err
	}
	synth.Table(w, synth.Run(func() synth.Detect {
		d, _ := model.NewDetector(cfg)
		return func(t int64, v float64) bool { return d.Update(t, v).Anomaly }
	}))
	return nil
}

type modelStream struct {
	d     *model.Detector
	flags bool
}

func (s modelStream) Next(t int64, v float64) float64 {
	r := s.d.Update(t, v)
	if s.flags {
		return b2f(r.Anomaly)
	}
	return r.Score
}

type heuristicStream struct {
	h     *heuristic.Heuristic
	st    *heuristic.State
	flags bool
}

func (s heuristicStream) Next(t int64, v float64) float64 {
	r := s.h.Score(s.st, t, v)
	if s.flags {
		return b2f(r.Anomaly)
	}
	return r.Score
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// decodeConfig fills v from -config's JSON, when given, refusing unknown
// fields and trailing data.
func decodeConfig(cfgJSON string, v any) error {
	if cfgJSON == "" {
		return nil
	}
	if err := strictJSON([]byte(cfgJSON), v); err != nil {
		return fmt.Errorf("parse -config: %w", err)
	}
	return nil
}

func streams(det, cfgJSON string) (nabeval.NewStream, error) {
	switch det {
	case "model", "flags-model":
		var cfg model.Config
		if err := decodeConfig(cfgJSON, &cfg); err != nil {
			return nil, err
		}
		if _, err := model.NewDetector(cfg); err != nil {
			return nil, err
		}
		return func(string) (nabeval.Stream, error) {
			d, err := model.NewDetector(cfg)
			return modelStream{d, det == "flags-model"}, err
		}, nil
	case "heuristic", "flags-heuristic":
		var cfg heuristic.Config
		if err := decodeConfig(cfgJSON, &cfg); err != nil {
			return nil, err
		}
		h, err := heuristic.New(cfg)
		if err != nil {
			return nil, err
		}
		return func(rel string) (nabeval.Stream, error) {
			st := h.NewState(rel)
			return heuristicStream{h, &st, det == "flags-heuristic"}, nil
		}, nil
	}
	return nil, errors.New("unknown -detector " + det)
}

// strictJSON decodes one JSON object into v, refusing fields v does not
// have: a misspelt constant must not run the defaults unnoticed.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// resultsDir returns the results directory for one run: dir when given,
// else a fresh temporary one that cleanup removes.
func resultsDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "nabeval-results-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}
