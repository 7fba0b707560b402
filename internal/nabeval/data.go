package nabeval

import (
	"bufio"
	"fmt"
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

// LoadFile reads one NAB CSV (header timestamp,value).
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
		if line == 1 {
			continue // header
		}
		ts, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), ",")
		if !ok {
			continue
		}
		t, err := time.Parse(timeLayout, strings.TrimSpace(ts))
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		f.Raw = append(f.Raw, ts)
		f.Times = append(f.Times, t.UnixNano())
		f.Values = append(f.Values, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}
