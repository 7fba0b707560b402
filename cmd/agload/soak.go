package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/astraguard/astraguard/client"
	"github.com/astraguard/astraguard/internal/loadtest"
)

// tailTimeout bounds how long a phase waits, after its duration, for the
// last answers.
const tailTimeout = 30 * time.Second

// soakRow is one phase of a soak on one target.
type soakRow struct {
	target, phase string
	r             loadtest.Result
	rate          float64 // verdicts/s
	paced         float64 // offered samples/s; 0 unpaced
	serverCores   float64 // server CPU seconds per wall second
	clientCores   float64 // agload's, alike: the two share the machine
	peakRSS       int64   // VmHWM after the phase, bytes; -1 unknown
	gStart, gMax  float64 // go_goroutines before and during the phase; -1 unknown
	gEnd          float64 // after the phase, once its streams closed
}

// soak runs, on each target in turn, a saturated phase (as many streams
// and requests in flight as configured, unpaced: the highest rate this
// machine sustains, queueing included in the latency), then a phase paced
// at cfg.rateFraction of the rate the first reached, whose latency is the
// service's own rather than the queue's. Streams re-send across failures;
// any sample left without a verdict is counted lost.
func (b *bench) soak(ctx context.Context) ([]soakRow, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	var rows []soakRow
	for _, c := range b.conns {
		sat, err := b.soakPhase(ctx, hc, c, "saturated", 0)
		rows = append(rows, sat)
		if err != nil {
			return rows, fmt.Errorf("%s saturated: %w", c.name, err)
		}
		if b.cfg.rateFraction <= 0 {
			continue
		}
		rate := b.cfg.rateFraction * sat.rate
		paced, err := b.soakPhase(ctx, hc, c, fmt.Sprintf("paced %.0f%%", 100*b.cfg.rateFraction), rate)
		rows = append(rows, paced)
		if err != nil {
			return rows, fmt.Errorf("%s paced: %w", c.name, err)
		}
	}
	return rows, nil
}

func (b *bench) soakPhase(ctx context.Context, hc *http.Client, c *conn, phase string, rate float64) (soakRow, error) {
	row := soakRow{target: c.name, phase: phase, paced: rate, peakRSS: -1, gStart: -1, gMax: -1, gEnd: -1}
	row.gStart = goroutines(ctx, hc, c)
	row.gMax = row.gStart
	fmt.Fprintf(b.log, "%-20s %s: %v, %d streams, window %d, rate %s\n", c.name, phase, b.cfg.duration, b.cfg.streams, b.cfg.window, rateText(rate))

	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { row.gMax = max(row.gMax, watchGoroutines(pctx, hc, c, b.cfg.sampleEvery)) })
	cpu0, cpuErr := loadtest.ProcessCPU(c.pid, b.cfg.clkTck)
	self0 := selfCPU()
	cfg := loadtest.ResilientConfig{ThroughputConfig: b.throughputConfig(b.cfg.streams, 0), Rate: rate}
	// A server that stops answering must not hang the soak: whatever is
	// still unanswered a while after the phase counts as lost.
	rctx, cancel := context.WithTimeout(ctx, b.cfg.duration+tailTimeout)
	r, err := resilient(rctx, c, b.cfg.streams, cfg)
	cancel()
	cpu1, cpuErr1 := loadtest.ProcessCPU(c.pid, b.cfg.clkTck)
	self1 := selfCPU()
	stop()
	wg.Wait()

	row.r = r
	if r.Elapsed > 0 {
		row.rate = float64(r.Samples) / r.Elapsed.Seconds()
		row.clientCores = (self1 - self0).Seconds() / r.Elapsed.Seconds()
		if cpuErr == nil && cpuErr1 == nil {
			row.serverCores = (cpu1 - cpu0).Seconds() / r.Elapsed.Seconds()
		}
	}
	if rss, err := loadtest.PeakRSS(c.pid); err == nil {
		row.peakRSS = rss
	}
	// Streams end on the server a moment after the client saw their end.
	select {
	case <-ctx.Done():
	case <-time.After(b.cfg.settle):
	}
	row.gEnd = goroutines(ctx, hc, c)
	fmt.Fprintf(b.log, "%-20s %s: %.0f verdicts/s, p50 %v p99 %v, %s, %d reconnects\n", c.name, phase, row.rate,
		loadtest.Percentile(r.Latencies, 50), loadtest.Percentile(r.Latencies, 99), mix(r), r.Reconnects)
	if err != nil {
		return row, err
	}
	if r.Samples == 0 {
		return row, errors.New("no sample answered")
	}
	return row, nil
}

// watchGoroutines samples the target's go_goroutines every period until
// ctx is done and returns the highest seen, -1 for none.
func watchGoroutines(ctx context.Context, hc *http.Client, c *conn, period time.Duration) float64 {
	peak := -1.0
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return peak
		case <-t.C:
			peak = max(peak, goroutines(ctx, hc, c))
		}
	}
}

// goroutines reads go_goroutines off the target's /metrics; -1 when it
// has none or it cannot be read.
func goroutines(ctx context.Context, hc *http.Client, c *conn) float64 {
	if c.metricsAddr == "" {
		return -1
	}
	body, err := loadtest.Scrape(ctx, hc, "http://"+c.metricsAddr+"/metrics")
	if err != nil {
		return -1
	}
	v, ok := loadtest.MetricSum(body, "go_goroutines")
	if !ok {
		return -1
	}
	return v
}

func rateText(rate float64) string {
	if rate <= 0 {
		return "unpaced"
	}
	return fmt.Sprintf("%.0f samples/s", rate)
}

// printSoak prints one row per phase and fails when any verdict is
// missing, duplicated or mismatched.
func printSoak(w io.Writer, cfg config, rows []soakRow) error {
	fmt.Fprintf(w, "\nsoak: %v per phase; batches of %d samples (%d series x %d); %d streams, window %d; %d series; latency is per request, first send to response\n",
		cfg.duration, cfg.seriesPerReq*cfg.samplesPerSer, cfg.seriesPerReq, cfg.samplesPerSer, cfg.streams, cfg.window, cfg.series)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\tphase\tsamples/s\tp50\tp99\tp99.9\tpacing lag\tserver cores\tagload cores\tpeak RSS MiB\tgoroutines start/max/end\tverdicts\tlost\terrors\tdup/mismatch\treconnects\t\n")
	var bad []string
	for _, row := range rows {
		r := row.r
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%v\t%v\t%v\t%s\t%.2f\t%.2f\t%s\t%s/%s/%s\t%d\t%d\t%d\t%d/%d\t%d\t\n",
			row.target, row.phase, row.rate,
			round(loadtest.Percentile(r.Latencies, 50)), round(loadtest.Percentile(r.Latencies, 99)), round(loadtest.Percentile(r.Latencies, 99.9)),
			lag(row), row.serverCores, row.clientCores, mib(row.peakRSS), count(row.gStart), count(row.gMax), count(row.gEnd),
			r.Samples, r.Lost, r.Errored, r.Duplicates, r.Mismatched, r.Reconnects)
		// The soak sends valid samples only, so a sample error is a fault too.
		if r.Lost != 0 || r.Duplicates != 0 || r.Mismatched != 0 || r.Errored != 0 || r.Samples != r.Sent {
			bad = append(bad, fmt.Sprintf("%s %s: %s", row.target, row.phase, mix(r)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("verdicts lost or wrong: %q", bad)
	}
	fmt.Fprintln(w, "\nlost verdicts: 0 (every sample sent got exactly one verdict, none an error)")
	return nil
}

// lag is how far a paced phase's sender fell behind its schedule.
func lag(row soakRow) string {
	if row.paced == 0 {
		return "-"
	}
	return round(row.r.MaxLag).String()
}

func round(d time.Duration) time.Duration {
	if d >= time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func mib(b int64) string {
	if b < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(b)/(1<<20))
}

func count(v float64) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

// resilient runs loadtest.Resilient through a client.Client over the
// target, one stream per logical stream as before the client existed.
func resilient(ctx context.Context, c *conn, streams int, cfg loadtest.ResilientConfig) (loadtest.Result, error) {
	rc, err := client.New(c.addr, client.Config{MaxPending: max(cfg.Window, 1)}, client.WithPartitionKey(loadtest.StreamKey))
	if err != nil {
		return loadtest.Result{}, err
	}
	defer rc.Close()
	return loadtest.Resilient(ctx, rc, c.w.Split(streams), cfg)
}
