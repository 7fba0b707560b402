package loadtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/astraguard/astraguard/client"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// ResilientConfig configures a pipelined run over a client.Client, whose
// streams survive the loss of the replica they run on. The embedded
// ThroughputConfig keeps its meaning; Requests and Duration bound the
// requests issued, not sends. Re-open attempts and backoff are the
// client's (client.Config).
type ResilientConfig struct {
	ThroughputConfig
	// Rate paces new requests to this many samples per second over all
	// streams; 0 sends as fast as the window allows.
	Rate float64
}

func (c ResilientConfig) withDefaults() ResilientConfig {
	c.Shape = c.Shape.withDefaults()
	c.Streams, c.Window = max(c.Streams, 1), max(c.Window, 1)
	return c
}

// StreamKey is a client partition key for Resilient's requests: the
// logical stream that issued them (their request id's "s<i>-" prefix), so
// requests of several series share one stream, as without the client.
// With one series per request the client's default, client.SeriesKey,
// places every series instead.
func StreamKey(req *astraguardv1.DetectRequest) (string, error) {
	id := req.GetRequestId()
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i], nil
	}
	return "", fmt.Errorf("request id %q has no stream prefix", id)
}

// Resilient runs cfg.Streams pipelined logical streams, stream i fed by
// feeds[i], through c: every request carries a unique id ("s<i>-<n>") and
// stays pending in the client until answered, re-sent in order when its
// Detect stream fails. Every issued sample is answered exactly once or
// counted in Lost (a call the client gave up on, or one left when ctx
// ended). Resent, Reconnects and Duplicates are the client's counts over
// the run, so they include other users of c meanwhile.
//
// Latencies holds one entry per answered request, from its hand-over to
// the client to its response (re-opens and re-sends included), sorted. A
// paced run also reports MaxLag, how far the sender fell behind its
// schedule. It returns the first error that ended a logical stream.
func Resilient(ctx context.Context, c *client.Client, feeds []*Feed, cfg ResilientConfig) (Result, error) {
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
	st0 := c.Stats()
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
	st := c.Stats()
	total.Resent = st.SamplesResent - st0.SamplesResent
	total.Reconnects = st.StreamsReopened - st0.StreamsReopened
	total.Duplicates = st.Duplicates - st0.Duplicates
	slices.Sort(total.Latencies)
	return total, first
}

// logicalStream issues one stream of requests through the client.
type logicalStream struct {
	c        *client.Client
	f        *Feed
	cfg      ResilientConfig
	prefix   string
	start    time.Time
	deadline time.Time
	interval time.Duration // between new requests; 0: unpaced
	phase    time.Duration // this stream's offset into the interval
	done     chan *client.Call
	free     chan *astraguardv1.DetectRequest // capacity Window: answered requests to refill

	mu     sync.Mutex
	handed map[*astraguardv1.DetectRequest]time.Time // guarded by mu; when each pending request went to the client

	// Written by run's goroutine only.
	r         Result
	accounted int64 // samples of completed calls (answered or failed)
}

func newLogicalStream(c *client.Client, f *Feed, cfg ResilientConfig, i int, start time.Time) *logicalStream {
	s := &logicalStream{
		c: c, f: f, cfg: cfg, prefix: fmt.Sprintf("s%d-", i), start: start,
		deadline: start.Add(cfg.Duration),
		done:     make(chan *client.Call, cfg.Window),
		free:     make(chan *astraguardv1.DetectRequest, cfg.Window),
		handed:   make(map[*astraguardv1.DetectRequest]time.Time, cfg.Window),
	}
	for range cfg.Window {
		s.free <- &astraguardv1.DetectRequest{}
	}
	if cfg.Rate > 0 {
		perReq := float64(cfg.SeriesPerRequest * cfg.SamplesPerSeries)
		s.interval = time.Duration(float64(time.Second) * perReq * float64(cfg.Streams) / cfg.Rate)
		s.phase = s.interval * time.Duration(i) / time.Duration(cfg.Streams) // spread the streams' sends
	}
	return s
}

// issued is what the sender tells the receiver at the end.
type issued struct {
	n      int64 // requests handed to the client
	sent   int64 // their samples
	maxLag time.Duration
	err    error
}

// run issues requests on one goroutine and takes answers on this one. A
// call the client gave up on ends the issuing; the calls already issued
// are still waited for.
func (s *logicalStream) run(ctx context.Context) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	end := make(chan issued, 1)
	go func() { end <- s.issue(sctx) }()
	var (
		got  int64
		last issued
		over bool
		err  error
	)
	for !over || got < last.n {
		select {
		case call := <-s.done:
			got++
			if cerr := s.answer(call); cerr != nil && err == nil {
				err = cerr
				cancel() // the client gave up: issue no more
			}
		case last = <-end:
			over = true
			if last.err != nil && err == nil {
				err = last.err
			}
		case <-ctx.Done():
			if !over {
				last = <-end
			}
			s.r.Lost += last.sent - s.accounted // whatever is still unanswered
			s.r.Sent, s.r.MaxLag = last.sent, last.maxLag
			return cmpErr(err, ctx.Err())
		}
	}
	s.r.Sent, s.r.MaxLag = last.sent, last.maxLag
	return err
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// answer accounts for one completed call.
func (s *logicalStream) answer(call *client.Call) error {
	req := call.Request
	n := samplesOf(req)
	s.mu.Lock()
	at := s.handed[req]
	delete(s.handed, req)
	s.mu.Unlock()
	s.accounted += int64(n)
	if call.Err != nil {
		// The slot is not given back: the issuing ends (see run), and a
		// freed slot could let one more request out before it does.
		s.r.Lost += int64(n)
		return call.Err
	}
	defer func() { s.free <- req }()
	s.r.Latencies = append(s.r.Latencies, time.Since(at))
	s.r.check(req.GetRequestId(), n, call.Response)
	return nil
}

func samplesOf(req *astraguardv1.DetectRequest) int {
	n := 0
	for _, ss := range req.GetSeries() {
		n += len(ss.GetValues())
	}
	return n
}

// issue hands requests to the client until the run's limit or ctx.
func (s *logicalStream) issue(ctx context.Context) issued {
	var out issued
	for seq := uint64(0); ; seq++ {
		if (s.cfg.Requests > 0 && seq >= uint64(s.cfg.Requests)) || (s.cfg.Duration > 0 && !time.Now().Before(s.deadline)) {
			return out
		}
		var due time.Time // when a paced request is meant to go out
		if s.interval > 0 {
			due = s.start.Add(s.phase + time.Duration(seq)*s.interval)
			select {
			case <-ctx.Done():
				return out
			case <-time.After(time.Until(due)):
			}
		}
		var req *astraguardv1.DetectRequest
		select {
		case <-ctx.Done():
			return out
		case req = <-s.free: // a window slot
		}
		if ctx.Err() != nil {
			return out
		}
		n := s.f.Fill(req, s.cfg.SeriesPerRequest, s.cfg.SamplesPerSeries)
		req.RequestId = s.prefix + strconv.FormatUint(seq, 10)
		now := time.Now()
		if !due.IsZero() {
			out.maxLag = max(out.maxLag, now.Sub(due))
		}
		s.mu.Lock()
		s.handed[req] = now
		s.mu.Unlock()
		if _, err := s.c.Go(ctx, req, s.done); err != nil {
			s.mu.Lock()
			delete(s.handed, req)
			s.mu.Unlock()
			if ctx.Err() == nil {
				out.err = err
			}
			return out
		}
		out.n++
		out.sent += int64(n)
	}
}
