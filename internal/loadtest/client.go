package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// Shape is the shape of each request: SeriesPerRequest series with
// SamplesPerSeries samples each.
type Shape struct {
	SeriesPerRequest int // default 10
	SamplesPerSeries int // default 10
}

func (s Shape) withDefaults() Shape {
	if s.SeriesPerRequest <= 0 {
		s.SeriesPerRequest = 10
	}
	if s.SamplesPerSeries <= 0 {
		s.SamplesPerSeries = 10
	}
	return s
}

// ThroughputConfig configures a pipelined run. Sending stops at Duration or
// after Requests per stream, whichever comes first; one must be set.
type ThroughputConfig struct {
	Shape
	Streams  int           // concurrent Detect streams on the connection; default 1
	Window   int           // requests in flight per stream; default 8
	Duration time.Duration // 0: no time limit
	Requests int           // per stream; 0: no count limit
}

// Result is what a run observed. Every sample sent is either answered by a
// verdict (Samples) or counted in Lost.
type Result struct {
	Requests   int64         // responses received
	Sent       int64         // samples sent
	Samples    int64         // verdicts received for sent samples
	Lost       int64         // samples sent that got no verdict
	Mismatched int64         // responses with the wrong request id or verdict count
	Model      int64         // verdicts with source MODEL
	Heuristic  int64         // verdicts with source HEURISTIC
	Errored    int64         // verdicts carrying a sample error
	Elapsed    time.Duration // from the first send to the last response
	Latencies  []time.Duration

	// Only Resilient sets these.
	Resent     int64 // samples sent again on a new stream after theirs failed
	Reconnects int64 // Detect streams re-opened after a failure
	Duplicates int64 // responses for requests already answered, not counted again
	// MaxLag is the longest a paced request went out after it was due.
	MaxLag time.Duration
}

// Add adds o's counts and latencies to r; Elapsed is left alone.
func (r *Result) Add(o Result) {
	r.Requests += o.Requests
	r.Sent += o.Sent
	r.Samples += o.Samples
	r.Lost += o.Lost
	r.Mismatched += o.Mismatched
	r.Model += o.Model
	r.Heuristic += o.Heuristic
	r.Errored += o.Errored
	r.Resent += o.Resent
	r.Reconnects += o.Reconnects
	r.Duplicates += o.Duplicates
	r.MaxLag = max(r.MaxLag, o.MaxLag)
	r.Latencies = append(r.Latencies, o.Latencies...)
}

// check accounts for one response to a request of want samples.
func (r *Result) check(id string, want int, resp *astraguardv1.DetectResponse) {
	vs := resp.GetVerdicts()
	r.Requests++
	if resp.GetRequestId() != id || len(vs) != want {
		r.Mismatched++
	}
	got := min(len(vs), want)
	r.Samples += int64(got)
	r.Lost += int64(want - got)
	for _, v := range vs[:got] {
		switch {
		case v.GetError() != nil:
			r.Errored++
		case v.GetSource() == astraguardv1.Source_SOURCE_MODEL:
			r.Model++
		case v.GetSource() == astraguardv1.Source_SOURCE_HEURISTIC:
			r.Heuristic++
		}
	}
}

// Throughput runs cfg.Streams pipelined Detect streams, stream i fed by
// feeds[i] (len(feeds) must equal the stream count), and returns the sum of
// what they observed. It returns the first stream error.
func Throughput(ctx context.Context, c astraguardv1.DetectorServiceClient, feeds []*Feed, cfg ThroughputConfig) (Result, error) {
	cfg.Shape = cfg.Shape.withDefaults()
	cfg.Streams, cfg.Window = max(cfg.Streams, 1), max(cfg.Window, 1)
	if cfg.Duration <= 0 && cfg.Requests <= 0 {
		return Result{}, errors.New("throughput: set Duration or Requests")
	}
	if len(feeds) != cfg.Streams {
		return Result{}, fmt.Errorf("throughput: %d feeds for %d streams", len(feeds), cfg.Streams)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		total Result
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	for i := range cfg.Streams {
		wg.Go(func() {
			r, err := pipeline(ctx, c, feeds[i], cfg, deadline)
			mu.Lock()
			defer mu.Unlock()
			total.Add(r)
			if err != nil && first == nil {
				first = fmt.Errorf("stream %d: %w", i, err)
				cancel()
			}
		})
	}
	wg.Wait()
	total.Elapsed = time.Since(start)
	return total, first
}

type pending struct {
	id string
	n  int
}

// pipeline runs one stream: a sender keeps up to cfg.Window requests in
// flight while this goroutine matches responses to them in order.
func pipeline(ctx context.Context, c astraguardv1.DetectorServiceClient, f *Feed, cfg ThroughputConfig, deadline time.Time) (Result, error) {
	var r Result
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.Detect(ctx)
	if err != nil {
		return r, err
	}
	// One more request than the window: a request is refilled only after its
	// response arrived, since gRPC may still read a message after SendMsg.
	reqs := make([]astraguardv1.DetectRequest, cfg.Window+1)
	inflight := make(chan pending, cfg.Window)
	sendErr := make(chan error, 1)
	var sent int64
	go func() {
		defer close(inflight)
		sendErr <- send(ctx, stream, f, cfg, deadline, reqs, inflight, &sent)
	}()
	for {
		resp, err := stream.Recv()
		if err != nil {
			cancel() // unblock the sender before waiting for it
			serr := <-sendErr
			for p := range inflight {
				r.Lost += int64(p.n)
			}
			r.Sent = sent
			if errors.Is(err, io.EOF) {
				return r, serr
			}
			return r, err
		}
		p, ok := <-inflight
		if !ok {
			r.Mismatched++ // a response nobody asked for
			continue
		}
		r.check(p.id, p.n, resp)
	}
}

// send sends requests until the deadline or the request count, then closes
// the send side. *sent is read only after send returns.
func send(ctx context.Context, stream astraguardv1.DetectorService_DetectClient, f *Feed, cfg ThroughputConfig, deadline time.Time, reqs []astraguardv1.DetectRequest, inflight chan<- pending, sent *int64) error {
	for i := 0; cfg.Requests <= 0 || i < cfg.Requests; i++ {
		if cfg.Duration > 0 && !time.Now().Before(deadline) {
			break
		}
		req := &reqs[i%len(reqs)]
		n := f.Fill(req, cfg.SeriesPerRequest, cfg.SamplesPerSeries)
		req.RequestId = strconv.Itoa(i)
		select {
		case inflight <- pending{id: req.RequestId, n: n}:
		case <-ctx.Done():
			return nil // the receiver reports why
		}
		if err := stream.Send(req); err != nil {
			return nil // io.EOF or a status the receiver also sees
		}
		*sent += int64(n)
	}
	return stream.CloseSend()
}

// LockstepConfig configures a lockstep run.
type LockstepConfig struct {
	Shape        // default 1 series x 1 sample, unlike Throughput's default
	Requests int // round trips; default 1000
}

// Lockstep sends cfg.Requests requests on one stream, each only after the
// previous answer arrived, and records each round trip in Latencies.
func Lockstep(ctx context.Context, c astraguardv1.DetectorServiceClient, f *Feed, cfg LockstepConfig) (Result, error) {
	cfg.SeriesPerRequest, cfg.SamplesPerSeries = max(cfg.SeriesPerRequest, 1), max(cfg.SamplesPerSeries, 1)
	if cfg.Requests <= 0 {
		cfg.Requests = 1000
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := Result{Latencies: make([]time.Duration, 0, cfg.Requests)}
	stream, err := c.Detect(ctx)
	if err != nil {
		return r, err
	}
	var req astraguardv1.DetectRequest
	start := time.Now()
	for i := range cfg.Requests {
		n := f.Fill(&req, cfg.SeriesPerRequest, cfg.SamplesPerSeries)
		req.RequestId = strconv.Itoa(i)
		t0 := time.Now()
		if err := stream.Send(&req); err != nil {
			_, err = stream.Recv() // the stream's real status
			return r, err
		}
		r.Sent += int64(n)
		resp, err := stream.Recv()
		if err != nil {
			r.Lost += int64(n)
			return r, err
		}
		r.Latencies = append(r.Latencies, time.Since(t0))
		r.check(req.RequestId, n, resp)
	}
	r.Elapsed = time.Since(start)
	if err := stream.CloseSend(); err != nil {
		return r, err
	}
	switch _, err := stream.Recv(); {
	case err == nil:
		r.Mismatched++ // a response nobody asked for
	case !errors.Is(err, io.EOF):
		return r, err
	}
	slices.Sort(r.Latencies)
	return r, nil
}
