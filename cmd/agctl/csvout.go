package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// outputHeader is the result file header. nabscore reads timestamp and
// anomaly_score; the rest is for people. The first six columns are fixed
// (SPEC.md); the explanation follows: the mechanism that fired and the
// expected value with its band (empty when the verdict has none).
var outputHeader = []string{"timestamp", "value", "anomaly_score", "anomaly", "source", "reason",
	"mechanism", "expected", "expected_lower", "expected_upper"}

// writeResults writes out/<s.rel> atomically (temp file + rename), one row
// per input row, in input order.
func writeResults(out string, s *series, verdicts []*astraguardv1.Verdict) (err error) {
	if len(verdicts) != len(s.nanos) {
		return fmt.Errorf("%s: %d verdicts for %d rows", s.rel, len(verdicts), len(s.nanos))
	}
	path := filepath.Join(out, filepath.FromSlash(s.rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	w := csv.NewWriter(bw)
	if err := w.Write(outputHeader); err != nil {
		return err
	}
	row := make([]string, len(outputHeader))
	for i, v := range verdicts {
		row[0], row[1] = s.stamps[i], s.texts[i]
		row[2], row[3], row[4], row[5] = verdictColumns(v)
		row[6], row[7], row[8], row[9] = explainColumns(v)
		if err := w.Write(row); err != nil {
			return err
		}
	}
	w.Flush()
	err = errors.Join(w.Error(), bw.Flush(), f.Chmod(0o644), f.Sync())
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// verdictColumns renders anomaly_score, anomaly, source and reason. An
// errored sample scores 0 (nabscore needs a number) with source "none" and
// the error message as its reason.
func verdictColumns(v *astraguardv1.Verdict) (score, anomaly, source, reason string) {
	if e := v.GetError(); e != nil {
		reason = e.GetMessage()
		if reason == "" {
			reason = enumWord(e.GetCode().String(), "SAMPLE_ERROR_CODE_")
		}
		return "0", "0", "none", reason
	}
	score = strconv.FormatFloat(v.GetScore(), 'f', -1, 64)
	anomaly = "0"
	if v.GetAnomaly() {
		anomaly = "1"
	}
	switch v.GetSource() {
	case astraguardv1.Source_SOURCE_MODEL:
		source = "model"
	case astraguardv1.Source_SOURCE_HEURISTIC:
		source = "heuristic"
	default:
		source = "none"
	}
	if r := v.GetFallbackReason(); r != astraguardv1.FallbackReason_FALLBACK_REASON_UNSPECIFIED {
		reason = enumWord(r.String(), "FALLBACK_REASON_")
	}
	return score, anomaly, source, reason
}

// explainColumns renders mechanism, expected, expected_lower and
// expected_upper: the mechanism's word ("" when nothing fired) and the band,
// empty when the verdict carries none.
func explainColumns(v *astraguardv1.Verdict) (mechanism, expected, lower, upper string) {
	if m := v.GetMechanism(); m != astraguardv1.Mechanism_MECHANISM_UNSPECIFIED {
		mechanism = enumWord(m.String(), "MECHANISM_")
	}
	if e := v.GetExpected(); e != nil {
		f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		expected, lower, upper = f(e.GetValue()), f(e.GetLower()), f(e.GetUpper())
	}
	return mechanism, expected, lower, upper
}

// enumWord turns FALLBACK_REASON_BREAKER_OPEN into breaker_open.
func enumWord(name, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}
