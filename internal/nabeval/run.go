package nabeval

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
)

// Stream is one detector instance fed one series in time order. It returns
// the anomaly score in [0, 1] for the sample.
type Stream interface {
	Next(unixNanos int64, v float64) float64
}

// NewStream builds a fresh Stream for the named file. It is called from
// several goroutines at once.
type NewStream func(relPath string) (Stream, error)

// Run replays files through fresh streams using up to workers goroutines
// (<= 0 means 2, the size of the shared tuning machines) and writes one
// result CSV per file under resultsDir.
func Run(files []*File, newStream NewStream, resultsDir string, workers int) error {
	if workers <= 0 {
		workers = 2
	}
	jobs := make(chan *File)
	errs := make(chan error, len(files))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				errs <- runFile(f, newStream, resultsDir)
			}
		}()
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func runFile(f *File, newStream NewStream, resultsDir string) error {
	s, err := newStream(f.RelPath)
	if err != nil {
		return fmt.Errorf("stream for %s: %w", f.RelPath, err)
	}
	out := filepath.Join(resultsDir, filepath.FromSlash(f.RelPath))
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	fh, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(fh)
	// label is always 0: nabscore reads the windows file, not this column,
	// but NAB's own tools expect the column to exist.
	w.WriteString("timestamp,value,anomaly_score,label\n")
	buf := make([]byte, 0, 64)
	for i, t := range f.Times {
		sc := s.Next(t, f.Values[i])
		buf = append(buf[:0], f.Raw[i]...)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, f.Values[i], 'g', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, sc, 'g', 8, 64)
		buf = append(buf, ",0\n"...)
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// ScorerArgs locates the NAB inputs for RunScorer.
type ScorerArgs struct {
	Bin      string // nabscore binary, e.g. bin/nabscore
	Data     string // NAB data dir
	Labels   string // windows JSON
	Profiles string // profiles.json
	Results  string // results dir written by Run
	Name     string // detector name passed to nabscore
	PerFile  bool   // also print per-file raw scores
}

// RunScorer runs nabscore with extra flags appended and returns its
// combined output.
func RunScorer(ctx context.Context, a ScorerArgs, extra ...string) ([]byte, error) {
	args := []string{"-data", a.Data, "-labels", a.Labels, "-profiles", a.Profiles, "-results", a.Results}
	if a.Name != "" {
		args = append(args, "-name", a.Name)
	}
	if a.PerFile {
		args = append(args, "-per-file")
	}
	args = append(args, extra...)
	out, err := exec.CommandContext(ctx, a.Bin, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("run %s: %w", a.Bin, err)
	}
	return out, nil
}
