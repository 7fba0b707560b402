// Command agload measures DetectorService targets with one load client:
// pipelined throughput and server CPU per sample on 1 and on many streams,
// and lockstep round-trip latency, repeated -count times, interleaved across
// targets so that noise hits them alike. It prints medians and ratios to the
// first target, the baseline (the echo server).
//
//	agload -target echo,127.0.0.1:7001,4242 \
//	       -target 'service(model)',127.0.0.1:7002,4243 \
//	       -target 'service(heuristic)',127.0.0.1:7003,4244,breaker-open
//	agload -free-ports 3   # prints 3 free loopback ports and exits
//
// With -soak it instead holds each target under load for -duration twice:
// saturated, then paced at -rate-fraction of that rate, re-sending across
// stream failures, and prints samples/s, latency percentiles, the server's
// peak RSS and goroutines (with metrics=HOST:PORT) and lost verdicts; it
// exits non-zero when any sample went without exactly one verdict.
//
//	agload -soak -duration 2m -target 'model',127.0.0.1:7002,4243,metrics=127.0.0.1:7003
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/astraguard/astraguard/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "agload:", err)
		os.Exit(1)
	}
}

// target is one server to measure.
type target struct {
	name        string
	addr        string
	pid         int
	breakerOpen bool   // force the "model" breaker open before warming up
	floor       bool   // another floor beside the baseline: no goals checked
	metricsAddr string // HOST:PORT serving /metrics; "" when not given
}

type targetsFlag []target

func (t *targetsFlag) String() string { return fmt.Sprint(len(*t), " targets") }

func (t *targetsFlag) Set(s string) error {
	f := strings.Split(s, ",")
	if len(f) < 3 || f[0] == "" || f[1] == "" {
		return fmt.Errorf("want NAME,ADDR,PID[,breaker-open][,floor][,metrics=HOST:PORT], got %q", s)
	}
	pid, err := strconv.Atoi(f[2])
	if err != nil || pid <= 0 {
		return fmt.Errorf("pid %q: want a positive number", f[2])
	}
	tg := target{name: f[0], addr: f[1], pid: pid}
	for _, opt := range f[3:] {
		switch m, ok := strings.CutPrefix(opt, "metrics="); {
		case opt == "breaker-open":
			tg.breakerOpen = true
		case opt == "floor":
			tg.floor = true
		case ok && m != "":
			tg.metricsAddr = m
		default:
			return fmt.Errorf("option %q: want breaker-open, floor or metrics=HOST:PORT", opt)
		}
	}
	*t = append(*t, tg)
	return nil
}

// Upper bounds of the flags that size agload's own memory: the requests
// in flight of each stream, the streams, the series (each keeps its id and
// state) and one request's samples.
const (
	maxWindow            = 1024
	maxStreams           = 10000 // the service's default --max-detect-streams
	maxSeries            = 1000000
	maxSamplesPerRequest = 100000 // the service's default --max-samples-per-request
)

// config is the parsed command line.
type config struct {
	targets         targetsFlag
	count           int
	duration        time.Duration
	streams         int
	window          int
	series          int
	seriesPerReq    int
	samplesPerSer   int
	lockstep        int
	warmupPerSeries int
	clkTck          int
	readyTimeout    time.Duration
	soak            bool
	rateFraction    float64
	sampleEvery     time.Duration
	settle          time.Duration
}

func parseConfig(args []string, stderr io.Writer) (config, int, error) {
	var c config
	fs := flag.NewFlagSet("agload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&c.targets, "target", "NAME,ADDR,PID[,breaker-open][,floor][,metrics=HOST:PORT]; repeat; the first is the baseline")
	fs.IntVar(&c.count, "count", 3, "repetitions of every phase; medians are reported")
	fs.DurationVar(&c.duration, "duration", 2*time.Second, "length of each throughput phase")
	fs.IntVar(&c.streams, "streams", 16, "streams of the many-streams phase")
	fs.IntVar(&c.window, "window", 8, "requests in flight per stream")
	fs.IntVar(&c.series, "series", 1000, "distinct series, sent round robin")
	fs.IntVar(&c.seriesPerReq, "series-per-request", 10, "series in each throughput request")
	fs.IntVar(&c.samplesPerSer, "samples-per-series", 10, "samples of each series in a throughput request")
	fs.IntVar(&c.lockstep, "lockstep", 20000, "round trips of a one-sample request per lockstep phase")
	fs.IntVar(&c.warmupPerSeries, "warmup-per-series", 320, "samples each series gets before measuring (the reference model learns for 300)")
	fs.IntVar(&c.clkTck, "clk-tck", 100, "kernel USER_HZ, from getconf CLK_TCK")
	fs.DurationVar(&c.readyTimeout, "ready-timeout", 30*time.Second, "wait for a target's health to report SERVING")
	fs.BoolVar(&c.soak, "soak", false, "soak instead of benchmark: per target a saturated phase, then a paced one, each -duration long")
	fs.Float64Var(&c.rateFraction, "rate-fraction", 0.5, "soak: pace the second phase at this fraction of the saturated rate; 0 skips it")
	fs.DurationVar(&c.sampleEvery, "sample-every", time.Second, "soak: how often to read the target's go_goroutines")
	fs.DurationVar(&c.settle, "settle", time.Second, "soak: wait after a phase before reading goroutines again")
	showVersion := version.AddFlag(fs)
	freePorts := fs.Int("free-ports", 0, "print this many free 127.0.0.1 ports and exit")
	if err := fs.Parse(args); err != nil {
		return c, 0, err
	}
	if *showVersion {
		return c, 0, version.ErrRequested
	}
	if *freePorts > 0 {
		return c, *freePorts, nil
	}
	switch {
	case len(c.targets) == 0:
		return c, 0, errors.New("no -target")
	case c.count < 1 || c.duration <= 0 || c.streams < 1 || c.window < 1 || c.lockstep < 1 || c.readyTimeout <= 0 || c.clkTck < 1:
		return c, 0, errors.New("-count, -duration, -streams, -window, -lockstep, -ready-timeout and -clk-tck must be positive")
	case c.series < c.streams || c.seriesPerReq < 1 || c.samplesPerSer < 1 || c.warmupPerSeries < 0:
		return c, 0, errors.New("need -series >= -streams and a positive request shape")
	case c.window > maxWindow || c.streams > maxStreams || c.series > maxSeries:
		return c, 0, fmt.Errorf("-window (%d), -streams (%d) and -series (%d) are at most %d, %d and %d: agload holds memory for each", c.window, c.streams, c.series, maxWindow, maxStreams, maxSeries)
	case c.seriesPerReq > maxSamplesPerRequest || c.samplesPerSer > maxSamplesPerRequest || c.seriesPerReq*c.samplesPerSer > maxSamplesPerRequest:
		return c, 0, fmt.Errorf("-series-per-request x -samples-per-series is at most %d samples (the service's default --max-samples-per-request)", maxSamplesPerRequest)
	case c.soak && (!(c.rateFraction >= 0 && c.rateFraction < 1) || c.sampleEvery <= 0 || c.settle < 0):
		return c, 0, errors.New("soak: need 0 <= -rate-fraction < 1, a positive -sample-every and -settle >= 0")
	}
	return c, 0, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, freePorts, err := parseConfig(args, stderr)
	if errors.Is(err, version.ErrRequested) {
		_, err = fmt.Fprintln(stdout, version.Get().String("agload"))
		return err
	}
	if err != nil {
		return err
	}
	if freePorts > 0 {
		return printFreePorts(stdout, freePorts)
	}
	b, err := newBench(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	if cfg.soak {
		rows, err := b.soak(ctx)
		if perr := printSoak(stdout, cfg, rows); err == nil {
			err = perr
		}
		return err
	}
	rows, err := b.measure(ctx)
	if err != nil {
		return err
	}
	return printReport(stdout, cfg, rows)
}

// printFreePorts holds n listeners open at once so the ports differ, then
// frees them; a port may be taken again before the caller binds it, which
// on a quiet loopback is rare enough for a benchmark script.
func printFreePorts(w io.Writer, n int) error {
	var ports []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	_, err := fmt.Fprintln(w, strings.Join(ports, " "))
	return err
}
