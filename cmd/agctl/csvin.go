package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// maxRowErrors caps the bad rows reported per file so a wrong file does
// not flood the terminal.
const maxRowErrors = 10

// series is one parsed input file.
type series struct {
	rel    string   // path relative to the data dir, slash-separated, with .csv
	id     string   // rel without .csv: the series id sent to the service
	stamps []string // timestamps as written, echoed to the output
	texts  []string // values as written, echoed to the output
	nanos  []int64
	values []float64
}

// rowError is one unparseable input row.
type rowError struct {
	file string
	line int
	err  error
}

func (e *rowError) Error() string { return fmt.Sprintf("%s:%d: %v", e.file, e.line, e.err) }

// findCSVs returns the .csv files below dir, relative and slash-separated,
// sorted.
func findCSVs(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".csv") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find csv files: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// loadSeries reads dir/rel, a regular file (a FIFO or a link to a device
// is refused rather than waited on or read for ever). Bad rows come back joined as *rowError values;
// the series is then unusable.
func loadSeries(dir, rel string) (*series, error) {
	f, _, err := smallfile.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSeries(rel, f)
}

// parseSeries parses a CSV with a header naming "timestamp" and "value"
// columns (other columns are ignored).
func parseSeries(rel string, r io.Reader) (*series, error) {
	s := &series{rel: rel, id: strings.TrimSuffix(rel, filepath.Ext(rel))}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty file: want a timestamp,value header")
		}
		return nil, &rowError{rel, 1, err}
	}
	ti, vi := -1, -1
	for i, h := range hdr {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "timestamp":
			ti = i
		case "value":
			vi = i
		}
	}
	if ti < 0 || vi < 0 {
		return nil, &rowError{rel, 1, fmt.Errorf("header %q: want timestamp and value columns", strings.Join(hdr, ","))}
	}
	var errs []error
	bad := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line := 0
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			line, err = pe.StartLine, pe.Err
		case err == nil:
			line, _ = cr.FieldPos(0)
			err = s.add(rec, ti, vi)
		default:
			return nil, fmt.Errorf("read %s: %w", rel, err)
		}
		if err != nil {
			if bad++; bad <= maxRowErrors {
				errs = append(errs, &rowError{rel, line, err})
			}
		}
	}
	if bad > maxRowErrors {
		errs = append(errs, fmt.Errorf("%s: %d more bad rows", rel, bad-maxRowErrors))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func (s *series) add(rec []string, ti, vi int) error {
	if len(rec) <= max(ti, vi) {
		return fmt.Errorf("%d fields, want at least %d", len(rec), max(ti, vi)+1)
	}
	ts, err := parseTimestamp(rec[ti])
	if err != nil {
		return err
	}
	text := strings.TrimSpace(rec[vi])
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return fmt.Errorf("value %q is not a number", rec[vi])
	}
	s.stamps = append(s.stamps, rec[ti])
	s.texts = append(s.texts, text)
	s.nanos = append(s.nanos, ts.UnixNano())
	s.values = append(s.values, v)
	return nil
}

// restamp replaces s's times by its first row's plus i*cadence for row i,
// in the timestamp column too (NAB's layout, UTC), and fails when the last
// would not fit in unix nanoseconds.
func (s *series) restamp(cadence time.Duration) error {
	if len(s.nanos) == 0 {
		return nil
	}
	t0 := s.nanos[0]
	if int64(len(s.nanos)-1) > (math.MaxInt64-max(t0, 0))/int64(cadence) {
		return fmt.Errorf("%s: %d rows at --cadence %v run past the year 2262", s.rel, len(s.nanos), cadence)
	}
	for i := range s.nanos {
		s.nanos[i] = t0 + int64(i)*int64(cadence)
		s.stamps[i] = time.Unix(0, s.nanos[i]).UTC().Format(restampLayout)
	}
	return nil
}

// restampLayout writes restamped times: NAB's layout, with fractional
// seconds only when there are some.
const restampLayout = "2006-01-02 15:04:05.999999999"

// Unix timestamps are told apart by magnitude: below 1e11 they are seconds
// (up to year 5138), from 1e17 on nanoseconds (from 1973); milliseconds and
// microseconds in between are rejected as ambiguous.
const (
	maxUnixSeconds = 1e11
	minUnixNanos   = 1e17
)

// layouts are the accepted text timestamps, read as UTC when they carry no
// zone. NAB writes "2014-04-10 07:15:00" (sometimes with fractional seconds).
var layouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
}

// The times an int64 of unix nanoseconds can hold (1677-09-21 to
// 2262-04-11); UnixNano silently wraps outside them.
var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// parseTimestamp reads NAB, RFC 3339 and unix seconds/nanoseconds times
// that fit in unix nanoseconds.
func parseTimestamp(raw string) (time.Time, error) {
	t, err := parseTime(raw)
	if err == nil && (t.Before(minNanoTime) || t.After(maxNanoTime)) {
		return time.Time{}, fmt.Errorf("timestamp %q is outside the years 1678 to 2262 that unix nanoseconds hold", raw)
	}
	return t, err
}

func parseTime(raw string) (time.Time, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return time.Time{}, errors.New("empty timestamp")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch a := math.Abs(float64(n)); {
		case a < maxUnixSeconds:
			return time.Unix(n, 0).UTC(), nil
		case a >= minUnixNanos:
			return time.Unix(0, n).UTC(), nil
		}
		return time.Time{}, fmt.Errorf("unix timestamp %q is neither seconds nor nanoseconds", raw)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && strings.Contains(s, ".") && math.Abs(f) < maxUnixSeconds {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unparseable timestamp %q", raw)
}
