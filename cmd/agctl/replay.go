package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/report"
)

// replayConfig is the replay command line.
type replayConfig struct {
	conn     connFlags
	data     string
	out      string
	batch    int           // samples per request
	window   int           // requests in flight per stream
	parallel int           // files replayed at once, one stream each
	speed    float64       // real-time factor; 0 = as fast as the service takes them
	connect  time.Duration // how long the reachability check waits
	cadence  time.Duration // restamp rows this far apart from the first; 0 = as written

	allowErrors bool // exit 0 even when some verdicts are sample errors
	force       bool // replace output files that already exist

	report string // --report: the HTML report to write; empty: none
	labels string // --labels: labelled windows for the report
}

const replayUsage = `Usage: agctl replay --data DIR|FILE --out OUT [flags]

Streams every .csv below DIR (NAB format: header timestamp,value; times as
"2014-04-10 07:15:00" UTC, RFC 3339, or unix seconds/nanoseconds) through
DetectorService.Detect. A file's series id is its path below DIR without .csv.
--data may also name one CSV file: its series id is its name without .csv.
For each input it writes OUT/<same relative path> with one row per input row:
  timestamp,value,anomaly_score,anomaly,source,reason,
  mechanism,expected,expected_lower,expected_upper
(the last four explain a model verdict: what fired and the expected value
with its band; empty when absent), which nabscore reads as a results
directory (-results OUT).

--addr takes one address, a comma-separated list of replicas (a,b,c), or
dns:///NAME:PORT (a Kubernetes headless service). Each file's series goes to
one replica, picked by gRPC's ring_hash on the series id; when a replica fails
mid-run its series move to another and their unanswered requests are re-sent,
so every row still gets exactly one verdict. Before sending anything replay
asks each replica for its health; when none answers within --connect-timeout
(5s) it fails at once, naming each address and why (e.g. connection refused).

--cadence D replays every file as if sampled every D: row i is sent, and
written, at the file's first time plus i*D (as "2006-01-02 15:04:05" UTC),
whatever the file's own spacing, so one data set can be replayed at several
cadences.

All input is parsed before anything is sent; a bad row (reported as file:line)
fails the command. A missing or mismatched verdict fails the file (no output is
written for it) and the command exits non-zero. A verdict that is a sample
error (e.g. out of order: the series was already replayed into this service)
is written as such, and the command exits 1 unless --allow-errors. Existing
output files are left alone and the command refuses to start unless --force;
with it they are replaced atomically.

--report FILE.html also writes one self-contained HTML file (inline SVG, no
script) with a chart per series (value, expected band, flags) and a summary
table (flags, flags inside labels, flags per mechanism). --labels names the
labelled windows to shade and count: NAB's windows JSON (file -> [[start,
end], ...]) or a spacecraft meta.json (series, n_train, anomaly_sequences).

Flags:
`

// maxWindow bounds --window: agctl holds two channels of that many
// entries per stream, and the service reads a few requests of a stream
// ahead at most (README "Limits"), so a larger window only queues here.
const maxWindow = 1024

func newReplayFlags(c *cli) (*flag.FlagSet, *replayConfig) {
	cfg := &replayConfig{}
	fs := flag.NewFlagSet("agctl replay", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	cfg.conn.register(fs, 0)
	fs.StringVar(&cfg.data, "data", "", "input directory, or one CSV file (required)")
	fs.StringVar(&cfg.out, "out", "", "output directory (required; created)")
	fs.IntVar(&cfg.batch, "batch", 500, "samples per request")
	fs.IntVar(&cfg.window, "window", 8, fmt.Sprintf("requests in flight per stream (at most %d)", maxWindow))
	fs.IntVar(&cfg.parallel, "parallel", 4, "files replayed concurrently, one stream each")
	fs.Float64Var(&cfg.speed, "speed", 0, "replay at this multiple of real time from timestamp gaps; 0 = as fast as possible")
	fs.DurationVar(&cfg.connect, "connect-timeout", 5*time.Second, "before sending, how long to wait for a replica to answer; with none answering, fail without sending")
	fs.DurationVar(&cfg.cadence, "cadence", 0, "restamp each file's rows this far apart, from its first row's time (e.g. 300s), in the output too; 0 = keep the timestamps")
	fs.BoolVar(&cfg.allowErrors, "allow-errors", false, "exit 0 even when some verdicts are sample errors")
	fs.BoolVar(&cfg.force, "force", false, "replace output files that already exist")
	fs.StringVar(&cfg.report, "report", "", "also write a self-contained HTML report (charts and a summary table) to this file")
	fs.StringVar(&cfg.labels, "labels", "", "labelled anomaly windows for --report: NAB windows JSON or spacecraft meta.json")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), replayUsage)
		fs.PrintDefaults()
	}
	return fs, cfg
}

func (cfg *replayConfig) validate() error {
	switch {
	case cfg.data == "" || cfg.out == "":
		return usageError("replay needs --data and --out")
	case cfg.batch <= 0 || cfg.window <= 0 || cfg.parallel <= 0:
		return usageError("--batch, --window and --parallel must be positive")
	case cfg.window > maxWindow:
		return usageError("--window %d above %d: the service holds a few requests of a stream at once, more only wait in agctl's memory", cfg.window, maxWindow)
	case !(cfg.speed >= 0 && cfg.speed <= math.MaxFloat64):
		return usageError("--speed %v: want a finite number, 0 or more", cfg.speed)
	case cfg.connect <= 0:
		return usageError("--connect-timeout must be positive")
	case cfg.cadence < 0:
		return usageError("--cadence must not be negative")
	case cfg.labels != "" && cfg.report == "":
		return usageError("--labels needs --report")
	}
	if err := cfg.conn.validate(); err != nil {
		return err
	}
	data, err1 := filepath.Abs(cfg.data)
	out, err2 := filepath.Abs(cfg.out)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if fi, err := os.Stat(data); err == nil && !fi.IsDir() {
		data = filepath.Dir(data) // one file: its results land in OUT/<name>
	}
	if out == data || strings.HasPrefix(out, data+string(filepath.Separator)) {
		// A second run would read the first run's results as input.
		return usageError("--out %s must not be inside --data %s", cfg.out, cfg.data)
	}
	return nil
}

func (c *cli) replay(ctx context.Context, args []string) error {
	fs, cfg := newReplayFlags(c)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("replay takes no arguments, got %q", pos)
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	cfg.conn.resolve(c.getenv)

	var labels *report.Labels
	if cfg.labels != "" {
		if labels, err = report.LoadLabels(cfg.labels); err != nil {
			return err
		}
	}
	inputs, rows, err := loadAll(cfg.data)
	if err != nil {
		return err
	}
	if cfg.cadence > 0 {
		for _, in := range inputs {
			if err := in.restamp(cfg.cadence); err != nil {
				return err
			}
		}
	}
	if !cfg.force {
		if err := refuseExisting(cfg.out, inputs); err != nil {
			return err
		}
		if _, err := os.Lstat(cfg.report); cfg.report != "" && err == nil {
			return usageError("--report %s exists, nothing sent (use --force to replace it)", cfg.report)
		}
	}
	if err := c.checkReachable(ctx, cfg.conn, cfg.connect, func(s string) { fmt.Fprintln(c.stderr, printable(s)) }); err != nil {
		return err
	}
	dc, err := c.dialReplicas(cfg.conn, cfg.window)
	if err != nil {
		return err
	}
	defer dc.Close()

	st := &stats{}
	s := &streamer{
		client: dc,
		size:   cfg.batch, window: cfg.window, speed: cfg.speed, stats: st,
	}
	start := time.Now()
	var bar *progressBar
	if c.terminal {
		bar = startProgress(c.stderr, st, len(inputs), rows)
	}
	errs, verdicts := replayAll(ctx, s, inputs, cfg)
	if bar != nil {
		bar.stop()
	}
	fmt.Fprintln(c.stderr, st.summary(len(inputs), time.Since(start)))
	if cfg.report != "" {
		if err := writeReport(cfg.report, cfg, inputs, verdicts, labels); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "report: %s\n", cfg.report)
	}
	if n := countErrs(errs); n > 0 {
		return fmt.Errorf("%d of %d files failed:\n%w", n, len(inputs), errors.Join(errs...))
	}
	if n := st.errored.Load(); n > 0 && !cfg.allowErrors {
		return fmt.Errorf("%d of %d verdicts are sample errors (see the reason column of the output; --allow-errors accepts them)", n, st.rows.Load())
	}
	return nil
}

// refuseExisting fails when any output file already exists, so a second
// replay never silently replaces the results of the first.
func refuseExisting(out string, inputs []*series) error {
	var found []string
	for _, in := range inputs {
		path := filepath.Join(out, filepath.FromSlash(in.rel))
		if _, err := os.Lstat(path); err == nil {
			found = append(found, path)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if len(found) == 0 {
		return nil
	}
	more := ""
	if len(found) > 3 {
		more = fmt.Sprintf(" and %d more", len(found)-3)
		found = found[:3]
	}
	return usageError("output exists, nothing sent: %s%s (use --force to replace, or another --out)", strings.Join(found, ", "), more)
}

// loadAll parses every CSV below dir (or the one file dir names) and
// returns them with the row total. Any bad row fails the whole replay
// before anything is sent.
func loadAll(dir string) ([]*series, int, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("--data: %w", err)
	}
	var rels []string
	if fi.IsDir() {
		if rels, err = findCSVs(dir); err != nil {
			return nil, 0, err
		}
	} else {
		if !fi.Mode().IsRegular() {
			return nil, 0, usageError("--data %s is neither a directory nor a regular file", dir)
		}
		// One file: its name is its path below its directory.
		dir, rels = filepath.Dir(dir), []string{filepath.Base(dir)}
	}
	if len(rels) == 0 {
		return nil, 0, fmt.Errorf("no .csv files below %s", dir)
	}
	var (
		out  []*series
		errs []error
		rows int
	)
	for _, rel := range rels {
		s, err := loadSeries(dir, rel)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
		rows += len(s.nanos)
	}
	if len(errs) > 0 {
		return nil, 0, fmt.Errorf("unparseable input, nothing sent:\n%w", errors.Join(errs...))
	}
	return out, rows, nil
}

// replayAll replays inputs cfg.parallel at a time and writes each file's
// results; it returns one error slot per input, nil for a success, and
// with --report each successful input's verdicts.
func replayAll(ctx context.Context, s *streamer, inputs []*series, cfg *replayConfig) ([]error, [][]*astraguardv1.Verdict) {
	errs := make([]error, len(inputs))
	kept := make([][]*astraguardv1.Verdict, len(inputs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(cfg.parallel, len(inputs)) {
		wg.Go(func() {
			for i := range next {
				var vs []*astraguardv1.Verdict
				vs, errs[i] = replayOne(ctx, s, inputs[i], cfg.out)
				if errs[i] == nil && cfg.report != "" {
					kept[i] = vs
				}
				if errs[i] != nil {
					s.stats.filesFailed.Add(1)
				} else {
					s.stats.filesDone.Add(1)
				}
			}
		})
	}
	for i := range inputs {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs, kept
}

func replayOne(ctx context.Context, s *streamer, in *series, out string) ([]*astraguardv1.Verdict, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", in.rel, err)
	}
	verdicts, err := s.replay(ctx, in)
	if err != nil {
		return nil, err
	}
	return verdicts, writeResults(out, in, verdicts)
}

func countErrs(errs []error) int {
	n := 0
	for _, err := range errs {
		if err != nil {
			n++
		}
	}
	return n
}

// parseArgs parses flags anywhere in args and returns the positionals.
// Flag mistakes become usage errors; -h stays flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return pos, err
}
