package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/astraguard/astraguard/client"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// paceQuantum is the coalescing granularity under --speed: samples due
// within this much of a batch's first sample go in one request, so fast
// replay factors do not cost one timer and one request per sample.
const paceQuantum = 10 * time.Millisecond

// batch is one planned request: samples [start, end), sent once the replay
// clock reaches at (always 0 when not pacing).
type batch struct {
	start, end int
	at         time.Duration
}

// planBatches cuts a series into requests of at most size samples. With
// speed > 0 a request leaves when its last sample is due at speed× real
// time, measured from the first sample; out-of-order timestamps are sent
// without delay.
func planBatches(nanos []int64, size int, speed float64) []batch {
	var out []batch
	due := func(k int) time.Duration { return saturate((float64(nanos[k]) - float64(nanos[0])) / speed) }
	var prev time.Duration
	for i := 0; i < len(nanos); {
		j := min(i+size, len(nanos))
		if speed <= 0 {
			out = append(out, batch{start: i, end: j})
			i = j
			continue
		}
		first := due(i)
		until := first + paceQuantum
		if until < first {
			until = math.MaxInt64
		}
		j = i + 1
		for j < len(nanos) && j-i < size && due(j) < until {
			j++
		}
		prev = max(prev, due(j-1))
		out = append(out, batch{start: i, end: j, at: prev})
		i = j
	}
	return out
}

// saturate converts nanoseconds to a Duration, clamped to its range: a
// conversion past it is undefined in Go and wrapped to a negative duration
// on amd64, so a very slow --speed sent everything at once.
func saturate(ns float64) time.Duration {
	switch {
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}

// streamer replays series through a client.Client: each series on one
// Detect stream, on the replica the ring picks for its id. It is safe for
// concurrent use.
type streamer struct {
	client *client.Client
	size   int     // samples per request
	window int     // requests in flight per series
	speed  float64 // real-time factor; 0 = as fast as possible
	stats  *stats
}

// sent is a request awaiting its response.
type sent struct {
	id string
	batch
}

// replay streams s and returns one verdict per row, in row order. It fails
// on any response that does not match its request (id, verdict count,
// series id or time) and on a request the client gave up on. The client
// re-sends what a failed replica left unanswered and drops duplicates, so
// each request completes exactly once, in order.
func (st *streamer) replay(ctx context.Context, s *series) ([]*astraguardv1.Verdict, error) {
	g, gctx := errgroup.WithContext(ctx)
	plan := planBatches(s.nanos, st.size, st.speed)
	done := make(chan *client.Call, st.window)
	pending := make(chan sent, st.window)
	verdicts := make([]*astraguardv1.Verdict, 0, len(s.nanos))

	g.Go(func() error {
		defer close(pending)
		start := time.Now()
		for i, b := range plan {
			if err := waitUntil(gctx, start.Add(b.at)); err != nil {
				return err
			}
			p := sent{id: fmt.Sprintf("%s#%d", s.id, i), batch: b}
			select {
			case pending <- p: // a window slot: freed once answered
			case <-gctx.Done():
				return gctx.Err()
			}
			_, err := st.client.Go(gctx, &astraguardv1.DetectRequest{
				RequestId: p.id,
				Series: []*astraguardv1.SeriesSamples{{
					SeriesId:  s.id,
					UnixNanos: s.nanos[b.start:b.end],
					Values:    s.values[b.start:b.end],
				}},
			}, done)
			if err != nil {
				return fmt.Errorf("send %s: %w", p.id, err)
			}
		}
		return nil
	})
	g.Go(func() error {
		for p := range pending {
			var call *client.Call
			select {
			case call = <-done:
			case <-gctx.Done():
				return gctx.Err()
			}
			if call.Err != nil {
				return fmt.Errorf("request %s: %w", call.Request.GetRequestId(), call.Err)
			}
			if err := checkResponse(s, p, call.Response); err != nil {
				return err
			}
			verdicts = append(verdicts, call.Response.GetVerdicts()...)
			st.stats.add(call.Response.GetVerdicts())
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.rel, err)
	}
	if len(verdicts) != len(s.nanos) {
		return nil, fmt.Errorf("%s: %d of %d rows missing", s.rel, len(s.nanos)-len(verdicts), len(s.nanos))
	}
	return verdicts, nil
}

// checkResponse verifies that resp answers p.
func checkResponse(s *series, p sent, resp *astraguardv1.DetectResponse) error {
	if resp.GetRequestId() != p.id {
		return fmt.Errorf("response %q arrived for request %q", resp.GetRequestId(), p.id)
	}
	vs := resp.GetVerdicts()
	if want := p.end - p.start; len(vs) != want {
		return fmt.Errorf("request %s: %d verdicts for %d samples (rows missing)", p.id, len(vs), want)
	}
	for k, v := range vs {
		row := p.start + k
		if v.GetSeriesId() != s.id {
			return fmt.Errorf("request %s: verdict %d is for series %q", p.id, k, v.GetSeriesId())
		}
		if n := v.GetUnixNanos(); n != 0 && n != s.nanos[row] {
			return fmt.Errorf("request %s: verdict %d has time %d, row %d has %d", p.id, k, n, row, s.nanos[row])
		}
	}
	return nil
}

// waitUntil blocks until t or until ctx is done.
func waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
