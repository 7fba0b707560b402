package nabeval

import (
	"bufio"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/astraguard/astraguard/internal/smallfile"
)

// File is one NAB data file held in memory.
type File struct {
	RelPath string // e.g. "realTweets/Twitter_volume_IBM.csv"
	Raw     []string
	Times   []int64 // unix nanoseconds, UTC
	Values  []float64
}

// timeLayout is NAB's timestamp spelling; the data files carry no zone, and
// UTC keeps time-of-day features identical on every machine.
const timeLayout = "2006-01-02 15:04:05"

// LoadDir reads every *.csv one level below dataDir (<category>/<file>.csv),
// sorted by relative path so runs are reproducible.
func LoadDir(dataDir string) ([]*File, error) {
	paths, err := filepath.Glob(filepath.Join(dataDir, "*", "*.csv"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dataDir, err)
	}
	sort.Strings(paths)
	files := make([]*File, 0, len(paths))
	for _, p := range paths {
		rel, err := filepath.Rel(dataDir, p)
		if err != nil {
			return nil, err
		}
		f, err := LoadFile(p)
		if err != nil {
			return nil, err
		}
		f.RelPath = filepath.ToSlash(rel)
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no csv files under %s", dataDir)
	}
	return files, nil
}

// header is the first line every NAB CSV starts with.
const header = "timestamp,value"

// LoadFile reads one NAB CSV: the header timestamp,value, then one row
// per sample, a NAB timestamp and a finite number. Any other line (a
// missing header, a blank line, a row of another field count, a bad
// timestamp or value, NaN or infinity, a line too long to read) fails the
// load with an error naming the file and the line: no row is skipped, so
// no sample is silently lost. A file without rows fails too.
func LoadFile(path string) (*File, error) {
	fh, _, err := smallfile.Open(path) // a regular file: a FIFO is refused, not waited on
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f := &File{RelPath: path}
	sc := bufio.NewScanner(fh)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			if h := strings.TrimPrefix(text, "\uFEFF"); h != header {
				return nil, fmt.Errorf("%s line 1: header %q, want %q", path, text, header)
			}
			continue
		}
		ts, v, err := parseRow(text)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		f.Raw = append(f.Raw, ts)
		f.Times = append(f.Times, v.t)
		f.Values = append(f.Values, v.v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s line %d: %w", path, line+1, err)
	}
	switch line {
	case 0:
		return nil, fmt.Errorf("%s: empty file, want the header %q and rows", path, header)
	case 1:
		return nil, fmt.Errorf("%s: no rows after the header", path)
	}
	return f, nil
}

type sample struct {
	t int64 // unix nanoseconds, UTC
	v float64
}

// parseRow reads one trimmed data row: its raw timestamp and its sample.
func parseRow(text string) (string, sample, error) {
	fields := strings.Split(text, ",")
	if text == "" || len(fields) != 2 {
		return "", sample{}, fmt.Errorf("row %q: want 2 fields, timestamp,value", text)
	}
	ts, val := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
	t, err := time.Parse(timeLayout, ts)
	if err != nil {
		return "", sample{}, fmt.Errorf("timestamp %q: want %s", ts, timeLayout)
	}
	v, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return "", sample{}, fmt.Errorf("value %q: not a number", val)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "", sample{}, fmt.Errorf("value %q: not finite", val)
	}
	return fields[0], sample{t.UnixNano(), v}, nil
}
