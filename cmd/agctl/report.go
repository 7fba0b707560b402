package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/report"
)

// reportSeries turns one replayed file and its verdicts into a report
// series with its labelled windows (labels may be nil).
func reportSeries(in *series, verdicts []*astraguardv1.Verdict, labels *report.Labels) report.Series {
	s := report.Series{ID: in.id, Samples: make([]report.Sample, len(in.nanos))}
	for i, v := range verdicts {
		x := report.Sample{UnixNanos: in.nanos[i], Value: in.values[i], Flag: v.GetAnomaly(), Error: v.GetError() != nil,
			Heuristic: v.GetSource() == astraguardv1.Source_SOURCE_HEURISTIC}
		if m := v.GetMechanism(); m != astraguardv1.Mechanism_MECHANISM_UNSPECIFIED {
			x.Mechanism = enumWord(m.String(), "MECHANISM_")
		}
		if e := v.GetExpected(); e != nil {
			x.HasBand, x.Expected, x.Lower, x.Upper = true, e.GetValue(), e.GetLower(), e.GetUpper()
		}
		s.Samples[i] = x
	}
	s.Windows, s.Labelled = labels.For(in.id, in.nanos)
	return s
}

// writeReport writes the HTML report of the files replayed in full
// (verdicts[i] nil for a failed file) atomically to path.
func writeReport(path string, cfg *replayConfig, inputs []*series, verdicts [][]*astraguardv1.Verdict, labels *report.Labels) (err error) {
	var all []report.Series
	for i, in := range inputs {
		if verdicts[i] != nil {
			all = append(all, reportSeries(in, verdicts[i], labels))
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	err = report.Write(bw, all, report.Options{Source: cfg.data, Labels: cfg.labels, Created: time.Now()})
	if err = errors.Join(err, bw.Flush(), f.Chmod(0o644), f.Sync()); err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}
