package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// ResilientConfig configures a pipelined run whose streams survive the loss
// of the server they run on. The embedded ThroughputConfig keeps its
// meaning; Requests and Duration bound the requests issued, not sends.
type ResilientConfig struct {
	ThroughputConfig
	// Rate paces new requests to this many samples per second over all
	// streams; 0 sends as fast as the window allows.
	Rate float64
	// MaxAttempts bounds re-opens of one stream in a row without a response
	// in between; default 20.
	MaxAttempts int
	// Backoff is the first wait before re-opening a stream, doubled up to
	// one second; default 20ms.
	Backoff time.Duration
	// Retryable tells the stream errors worth a re-open; default
	// Unavailable, Aborted, Internal and a stream that ended with requests
	// unanswered (errUnanswered).
	Retryable func(error) bool
}

func (c ResilientConfig) withDefaults() ResilientConfig {
	c.Shape = c.Shape.withDefaults()
	c.Streams, c.Window = max(c.Streams, 1), max(c.Window, 1)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 20
	}
	if c.Backoff <= 0 {
		c.Backoff = 20 * time.Millisecond
	}
	if c.Retryable == nil {
		c.Retryable = retryable
	}
	return c
}

// errUnanswered is a stream that the server ended cleanly while some of
// its requests had no response yet.
var errUnanswered = errors.New("stream ended with requests unanswered")

func retryable(err error) bool {
	if errors.Is(err, errUnanswered) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Aborted, codes.Internal:
		return true
	}
	return false
}

// Resilient runs cfg.Streams pipelined logical streams, stream i fed by
// feeds[i]. Every request carries a unique id and stays outstanding until
// a response with that id arrives. When a Detect stream fails with a
// retryable error, the logical stream opens a new Detect stream (on a
// balanced connection, round_robin picks a live backend) and re-sends
// every outstanding request, oldest first, before new ones. A response
// for a request already answered counts in Duplicates, not twice; so every
// issued sample is answered exactly once or counted in Lost.
//
// Latencies holds one entry per answered request, from its first send to
// its response (re-opens and re-sends included), sorted. A paced run also
// reports MaxLag, how far the sender fell behind its schedule: the time a
// request waited for its turn (a full window, a starved client) is not in
// its latency, so a large lag means the rate was not really offered. It
// returns the first error that ended a logical stream.
func Resilient(ctx context.Context, c astraguardv1.DetectorServiceClient, feeds []*Feed, cfg ResilientConfig) (Result, error) {
	cfg = cfg.withDefaults()
	if cfg.Duration <= 0 && cfg.Requests <= 0 {
		return Result{}, errors.New("resilient: set Duration or Requests")
	}
	if len(feeds) != cfg.Streams {
		return Result{}, fmt.Errorf("resilient: %d feeds for %d streams", len(feeds), cfg.Streams)
	}
	var (
		mu    sync.Mutex
		total Result
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	for i := range cfg.Streams {
		wg.Go(func() {
			s := newLogicalStream(c, feeds[i], cfg, i, start)
			err := s.run(ctx)
			mu.Lock()
			defer mu.Unlock()
			total.Add(s.r)
			if err != nil && first == nil {
				first = fmt.Errorf("stream %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	total.Elapsed = time.Since(start)
	slices.Sort(total.Latencies)
	return total, first
}

// outstanding is an issued request without a response yet.
type outstanding struct {
	req   *astraguardv1.DetectRequest
	n     int
	first time.Time // first send
}

// logicalStream is one stream of requests that outlives the Detect
// streams carrying it.
type logicalStream struct {
	c        astraguardv1.DetectorServiceClient
	f        *Feed
	cfg      ResilientConfig
	prefix   string
	start    time.Time
	deadline time.Time
	interval time.Duration // between new requests; 0: unpaced
	phase    time.Duration // this stream's offset into the interval
	window   chan struct{} // one token per outstanding request

	mu       sync.Mutex
	pending  map[uint64]*outstanding
	next     uint64 // sequence number of the next new request
	finished bool   // no new requests will be issued
	free     []*astraguardv1.DetectRequest
	answered bool // a response arrived on the current Detect stream

	// r is split by writer, so the two goroutines of a Detect stream
	// never write the same field:
	//   - the sender (send, issue) writes Sent, Resent and MaxLag, under mu;
	//   - run's goroutine, which is also the receiver (once, receive, ack),
	//     writes the rest: Latencies, Requests, Samples, Model, Heuristic,
	//     Errored and Reconnects without mu; Mismatched, Duplicates and
	//     Lost partly under mu, only because those writes sit beside
	//     pending's.
	// Only run's goroutine reads r, after once has waited for the sender.
	r Result
}

func newLogicalStream(c astraguardv1.DetectorServiceClient, f *Feed, cfg ResilientConfig, i int, start time.Time) *logicalStream {
	s := &logicalStream{
		c: c, f: f, cfg: cfg, prefix: fmt.Sprintf("s%d-", i), start: start,
		deadline: start.Add(cfg.Duration),
		window:   make(chan struct{}, cfg.Window),
		pending:  make(map[uint64]*outstanding, cfg.Window),
	}
	if cfg.Rate > 0 {
		perReq := float64(cfg.SeriesPerRequest * cfg.SamplesPerSeries)
		s.interval = time.Duration(float64(time.Second) * perReq * float64(cfg.Streams) / cfg.Rate)
		s.phase = s.interval * time.Duration(i) / time.Duration(cfg.Streams) // spread the streams' sends
	}
	return s
}

// run carries the logical stream over as many Detect streams as it takes.
func (s *logicalStream) run(ctx context.Context) error {
	attempts := 0
	backoff := s.cfg.Backoff
	for {
		err := s.once(ctx)
		if err == nil {
			return nil
		}
		s.mu.Lock()
		if s.answered {
			attempts, backoff = 0, s.cfg.Backoff
		}
		s.answered = false
		s.mu.Unlock()
		attempts++
		if ctx.Err() != nil || !s.cfg.Retryable(err) || attempts > s.cfg.MaxAttempts {
			s.giveUp()
			return err
		}
		s.r.Reconnects++
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// giveUp counts every outstanding request as lost.
func (s *logicalStream) giveUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.pending {
		s.r.Lost += int64(o.n)
	}
	clear(s.pending)
}

// once runs one Detect stream until it ends. It returns nil only when the
// logical stream is complete: nothing more to issue and nothing pending.
func (s *logicalStream) once(ctx context.Context) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := s.c.Detect(sctx)
	if err != nil {
		return err
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		s.send(sctx, stream)
	}()
	err = s.receive(stream)
	cancel() // unblock the sender before waiting for it
	<-sent
	return err
}

func (s *logicalStream) receive(stream astraguardv1.DetectorService_DetectClient) error {
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			s.mu.Lock()
			done, left := s.finished, len(s.pending)
			s.mu.Unlock()
			if done && left == 0 {
				return nil
			}
			return fmt.Errorf("%w: %d", errUnanswered, left)
		}
		if err != nil {
			return err
		}
		s.ack(resp)
	}
}

// ack matches a response to its request by id.
func (s *logicalStream) ack(resp *astraguardv1.DetectResponse) {
	id := resp.GetRequestId()
	seq, perr := strconv.ParseUint(strings.TrimPrefix(id, s.prefix), 10, 64)
	s.mu.Lock()
	o, ok := s.pending[seq]
	switch {
	case perr != nil || !strings.HasPrefix(id, s.prefix) || (!ok && seq >= s.next):
		s.r.Mismatched++ // a response nobody asked for
	case !ok:
		s.r.Duplicates++
	default:
		delete(s.pending, seq)
		s.answered = true
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	s.r.Latencies = append(s.r.Latencies, time.Since(o.first))
	s.r.check(id, o.n, resp)
	s.mu.Lock()
	s.free = append(s.free, o.req)
	s.mu.Unlock()
	<-s.window
}

// send re-sends what is outstanding, oldest first, then issues new
// requests until the run's limit, then closes the send side. A failed Send
// ends it quietly: the receiver sees the stream's status.
func (s *logicalStream) send(ctx context.Context, stream astraguardv1.DetectorService_DetectClient) {
	s.mu.Lock()
	seqs := slices.Sorted(func(yield func(uint64) bool) {
		for k := range s.pending {
			if !yield(k) {
				return
			}
		}
	})
	resend := make([]*outstanding, len(seqs))
	for i, k := range seqs {
		resend[i] = s.pending[k]
	}
	s.mu.Unlock()
	for _, o := range resend {
		if err := stream.Send(o.req); err != nil {
			return
		}
		s.mu.Lock()
		s.r.Resent += int64(o.n)
		s.mu.Unlock()
	}
	for {
		o, ok := s.issue(ctx)
		if !ok {
			break
		}
		if err := stream.Send(o.req); err != nil {
			return
		}
	}
	if ctx.Err() == nil {
		_ = stream.CloseSend() // an error here is the stream's, seen by the receiver
	}
}

// issue waits for pacing and a window slot, then makes the next request
// outstanding. It returns false when no more requests are to be issued or
// ctx is done.
func (s *logicalStream) issue(ctx context.Context) (*outstanding, bool) {
	s.mu.Lock()
	seq, done := s.next, s.limitReached()
	s.mu.Unlock()
	if done {
		return nil, false
	}
	var due time.Time // when a paced request is meant to go out
	if s.interval > 0 {
		due = s.start.Add(s.phase + time.Duration(seq)*s.interval)
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(time.Until(due)):
		}
	}
	select {
	case <-ctx.Done():
		return nil, false
	case s.window <- struct{}{}:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limitReached() {
		<-s.window
		return nil, false
	}
	var req *astraguardv1.DetectRequest
	if n := len(s.free); n > 0 {
		req, s.free = s.free[n-1], s.free[:n-1]
	} else {
		req = &astraguardv1.DetectRequest{}
	}
	o := &outstanding{req: req, n: s.f.Fill(req, s.cfg.SeriesPerRequest, s.cfg.SamplesPerSeries), first: time.Now()}
	if !due.IsZero() {
		s.r.MaxLag = max(s.r.MaxLag, o.first.Sub(due))
	}
	req.RequestId = s.prefix + strconv.FormatUint(s.next, 10)
	s.pending[s.next] = o
	s.next++
	s.r.Sent += int64(o.n)
	return o, true
}

// limitReached reports, and remembers, that the run's request count or
// duration is used up. s.mu must be held.
func (s *logicalStream) limitReached() bool {
	if !s.finished {
		s.finished = (s.cfg.Requests > 0 && s.next >= uint64(s.cfg.Requests)) ||
			(s.cfg.Duration > 0 && !time.Now().Before(s.deadline))
	}
	return s.finished
}
