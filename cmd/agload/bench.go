package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/loadtest"
)

// conn is a connected target with its own series, so every server sees
// strictly increasing times per series however the phases interleave.
type conn struct {
	target
	cc *grpc.ClientConn
	c  astraguardv1.DetectorServiceClient
	w  *loadtest.Workload
}

type bench struct {
	cfg   config
	log   io.Writer
	conns []*conn
}

func newBench(ctx context.Context, cfg config, log io.Writer) (*bench, error) {
	b := &bench{cfg: cfg, log: log}
	// Series start a week back, one sample a second: far more samples than
	// a run sends fit before now, and the service rejects future times.
	start := time.Now().Add(-7 * 24 * time.Hour)
	if cfg.soak {
		// A soak sends far more: at 2 million samples/s over 1000 series a
		// week of one-second steps is used up in about an hour.
		start = time.Now().Add(-10 * 365 * 24 * time.Hour)
	}
	for _, t := range cfg.targets {
		cc, err := grpc.NewClient(t.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.close()
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		w, err := loadtest.NewWorkload(cfg.series, start, time.Second)
		if err != nil {
			b.close()
			return nil, err
		}
		b.conns = append(b.conns, &conn{target: t, cc: cc, c: astraguardv1.NewDetectorServiceClient(cc), w: w})
	}
	for _, c := range b.conns {
		if err := b.prepare(ctx, c); err != nil {
			b.close()
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return b, nil
}

func (b *bench) close() {
	for _, c := range b.conns {
		c.cc.Close()
	}
}

// prepare waits for SERVING, forces the breaker open if asked, and sends
// every series warmupPerSeries samples on the many-streams shape.
func (b *bench) prepare(ctx context.Context, c *conn) error {
	if err := waitServing(ctx, c.cc, b.cfg.readyTimeout); err != nil {
		return err
	}
	if c.breakerOpen {
		// Open for longer than the whole run: every phase on every target,
		// each with its tail, comes before this target's last answer.
		// The service takes at most 24h.
		ttl := min(2*time.Hour+time.Duration(2*len(b.conns))*(b.cfg.duration+tailTimeout), 24*time.Hour)
		if err := forceOpen(ctx, c.cc, ttl); err != nil {
			return err
		}
	}
	perReq := b.cfg.seriesPerReq * b.cfg.samplesPerSer
	reqs := (b.cfg.series*b.cfg.warmupPerSeries + b.cfg.streams*perReq - 1) / (b.cfg.streams * perReq)
	if reqs == 0 {
		return nil
	}
	t0 := time.Now()
	r, err := loadtest.Throughput(ctx, c.c, c.w.Split(b.cfg.streams), b.throughputConfig(b.cfg.streams, reqs))
	if err != nil {
		return fmt.Errorf("warm up: %w", err)
	}
	fmt.Fprintf(b.log, "%-20s warmed up: %d samples in %v (%s)\n", c.name, r.Samples, time.Since(t0).Round(time.Millisecond), mix(r))
	return nil
}

func (b *bench) throughputConfig(streams, requests int) loadtest.ThroughputConfig {
	tc := loadtest.ThroughputConfig{Streams: streams, Window: b.cfg.window, Requests: requests}
	if requests == 0 {
		tc.Duration = b.cfg.duration
	}
	tc.SeriesPerRequest, tc.SamplesPerSeries = b.cfg.seriesPerReq, b.cfg.samplesPerSer
	return tc
}

func waitServing(ctx context.Context, cc *grpc.ClientConn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := healthpb.NewHealthClient(cc)
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		resp, err := hc.Check(cctx, &healthpb.HealthCheckRequest{})
		ccancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not serving after %v: last check: status %v, %v", timeout, resp.GetStatus(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// forceOpen forces the service's model breaker open for ttl.
func forceOpen(ctx context.Context, cc *grpc.ClientConn, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := astraguardv1.NewBreakerAdminClient(cc).ForceBreaker(ctx, &astraguardv1.ForceBreakerRequest{
		Name:     "model",
		Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN,
		Reason:   "agload: measure the heuristic path",
		Ttl:      durationpb.New(ttl),
	})
	if err != nil {
		return fmt.Errorf("force breaker open: %w", err)
	}
	if s := resp.GetBreaker().GetState(); s != astraguardv1.BreakerState_BREAKER_STATE_OPEN {
		return fmt.Errorf("force breaker open: state is %v", s)
	}
	return nil
}

// sample is one repetition's numbers for one target.
type sample struct {
	rate1, cpu1 float64 // 1 stream: samples/s, server us CPU per sample
	rateN, cpuN float64 // many streams
	client      float64 // agload's own us CPU per sample over both throughput phases
	p50, p99    time.Duration
	lockstepCPU float64 // server us CPU per lockstep round trip
	checks      loadtest.Result
}

// row is a target's repetitions.
type row struct {
	name    string
	samples []sample
}

// measure runs the phases count times, each repetition visiting every
// target in turn, so slow drifts in machine load spread over all targets.
func (b *bench) measure(ctx context.Context) ([]row, error) {
	rows := make([]row, len(b.conns))
	for i, c := range b.conns {
		rows[i].name = c.name
	}
	for rep := range b.cfg.count {
		for i, c := range b.conns {
			s, err := b.once(ctx, c)
			if err != nil {
				return nil, fmt.Errorf("%s: run %d: %w", c.name, rep+1, err)
			}
			rows[i].samples = append(rows[i].samples, s)
			fmt.Fprintf(b.log, "%-20s run %d: 1 stream %.0f/s %.2fus, %d streams %.0f/s %.2fus, lockstep p50 %v p99 %v %.1fus/rt; agload %.2fus/sample (%s)\n",
				c.name, rep+1, s.rate1, s.cpu1, b.cfg.streams, s.rateN, s.cpuN, s.p50, s.p99, s.lockstepCPU, s.client, mix(s.checks))
		}
	}
	return rows, nil
}

func (b *bench) once(ctx context.Context, c *conn) (sample, error) {
	var s sample
	var err error
	c0 := selfCPU()
	if s.rate1, s.cpu1, err = b.throughput(ctx, c, 1, &s.checks); err != nil {
		return s, err
	}
	if s.rateN, s.cpuN, err = b.throughput(ctx, c, b.cfg.streams, &s.checks); err != nil {
		return s, err
	}
	s.client = float64((selfCPU() - c0).Microseconds()) / float64(s.checks.Samples)
	cpu0, err := loadtest.ProcessCPU(c.pid, b.cfg.clkTck)
	if err != nil {
		return s, err
	}
	r, err := loadtest.Lockstep(ctx, c.c, c.w.Split(1)[0], loadtest.LockstepConfig{Requests: b.cfg.lockstep})
	if err != nil {
		return s, fmt.Errorf("lockstep: %w", err)
	}
	cpu1, err := loadtest.ProcessCPU(c.pid, b.cfg.clkTck)
	if err != nil {
		return s, err
	}
	s.p50, s.p99 = loadtest.Percentile(r.Latencies, 50), loadtest.Percentile(r.Latencies, 99)
	s.lockstepCPU = float64((cpu1 - cpu0).Microseconds()) / float64(len(r.Latencies))
	r.Latencies = nil
	s.checks.Add(r)
	return s, nil
}

// throughput runs one pipelined phase and returns samples/s and server
// microseconds of CPU per answered sample.
func (b *bench) throughput(ctx context.Context, c *conn, streams int, checks *loadtest.Result) (rate, cpu float64, err error) {
	cpu0, err := loadtest.ProcessCPU(c.pid, b.cfg.clkTck)
	if err != nil {
		return 0, 0, err
	}
	r, err := loadtest.Throughput(ctx, c.c, c.w.Split(streams), b.throughputConfig(streams, 0))
	if err != nil {
		return 0, 0, fmt.Errorf("%d streams: %w", streams, err)
	}
	cpu1, err := loadtest.ProcessCPU(c.pid, b.cfg.clkTck)
	if err != nil {
		return 0, 0, err
	}
	if r.Samples == 0 {
		return 0, 0, errors.New("no sample answered")
	}
	checks.Add(r)
	return float64(r.Samples) / r.Elapsed.Seconds(), float64((cpu1 - cpu0).Microseconds()) / float64(r.Samples), nil
}

// mix summarises what the verdicts say about the path taken and whether
// anything went missing.
func mix(r loadtest.Result) string {
	return fmt.Sprintf("sent %d, verdicts %d: model %d, heuristic %d, errors %d; lost %d, mismatched responses %d",
		r.Sent, r.Samples, r.Model, r.Heuristic, r.Errored, r.Lost, r.Mismatched)
}

// selfCPU is agload's own user plus system CPU so far: the client shares the
// machine's cores with the server, so throughput is often client-bound.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
