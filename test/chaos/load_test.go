package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/loadtest"
)

// kind is what a verdict says about where it came from.
type kind uint8

const (
	kindModel   kind = iota // the model answered
	kindWarming             // the model answered, still learning the series
	kindOpen                // the breaker refused the call (open, or probe limit)
	kindForced              // an operator forced the breaker open
	kindFailed              // the model call failed or timed out
	kindBad                 // a verdict the contract does not allow
	numKinds
)

var kindNames = [numKinds]string{"model", "warming", "open", "forced", "failed", "bad"}

func (k kind) String() string { return kindNames[k] }

// classify returns v's kind, or kindBad with the reason when v breaks the
// contract for a valid sample: no error, score in [0, 1], source set, a
// fallback reason exactly when the heuristic answered.
func classify(v *astraguardv1.Verdict) (kind, string) {
	if v.GetError() != nil {
		return kindBad, "sample error " + v.GetError().GetCode().String()
	}
	if s := v.GetScore(); math.IsNaN(s) || s < 0 || s > 1 {
		return kindBad, fmt.Sprintf("score %v outside [0, 1]", s)
	}
	r := v.GetFallbackReason()
	switch v.GetSource() {
	case astraguardv1.Source_SOURCE_MODEL:
		if r != astraguardv1.FallbackReason_FALLBACK_REASON_UNSPECIFIED {
			return kindBad, "model verdict with fallback reason " + r.String()
		}
		return kindModel, ""
	case astraguardv1.Source_SOURCE_HEURISTIC:
		switch r {
		case astraguardv1.FallbackReason_FALLBACK_REASON_WARMING_UP:
			return kindWarming, ""
		case astraguardv1.FallbackReason_FALLBACK_REASON_BREAKER_OPEN, astraguardv1.FallbackReason_FALLBACK_REASON_PROBE_LIMIT:
			return kindOpen, ""
		case astraguardv1.FallbackReason_FALLBACK_REASON_FORCED_OPEN:
			return kindForced, ""
		case astraguardv1.FallbackReason_FALLBACK_REASON_MODEL_ERROR, astraguardv1.FallbackReason_FALLBACK_REASON_MODEL_TIMEOUT:
			return kindFailed, ""
		}
		return kindBad, "heuristic verdict without a valid fallback reason: " + r.String()
	}
	return kindBad, "source " + v.GetSource().String()
}

// response is one answered request as the client saw it.
type response struct {
	stream  int
	sentAt  time.Time
	recvAt  time.Time
	samples int
	kinds   [numKinds]int // verdicts per kind
	timeout int           // kindFailed verdicts whose reason is MODEL_TIMEOUT
}

func (r *response) latency() time.Duration { return r.recvAt.Sub(r.sentAt) }

// all reports whether every verdict of r is of kind k.
func (r *response) all(k kind) bool { return r.samples > 0 && r.kinds[k] == r.samples }

// observer follows each series' verdict kind live, so a scenario can wait
// for "every series is scored by the model", and keeps each series' kind
// changes for the checks after the run.
type observer struct {
	mu     sync.Mutex
	series map[string]*track
}

type track struct {
	last    kind
	seen    bool
	changes []change
}

type change struct {
	at time.Time
	to kind
}

func newObserver() *observer { return &observer{series: make(map[string]*track)} }

func (o *observer) note(at time.Time, series string, k kind) {
	o.mu.Lock()
	defer o.mu.Unlock()
	tr := o.series[series]
	if tr == nil {
		tr = &track{}
		o.series[series] = tr
	}
	if !tr.seen || tr.last != k {
		tr.seen, tr.last = true, k
		tr.changes = append(tr.changes, change{at: at, to: k})
	}
}

// allModel reports whether every one of want series was last scored by
// the model.
func (o *observer) allModel(want int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.series) < want {
		return false
	}
	for _, tr := range o.series {
		if tr.last != kindModel {
			return false
		}
	}
	return true
}

// history returns a copy of every series' changes.
func (o *observer) history() map[string][]change {
	o.mu.Lock()
	defer o.mu.Unlock()
	h := make(map[string][]change, len(o.series))
	for id, tr := range o.series {
		h[id] = append([]change(nil), tr.changes...)
	}
	return h
}

// streamSpec shapes one Detect stream.
type streamSpec struct {
	feed      *loadtest.Feed
	series    int           // series per request
	perSeries int           // samples per series per request
	window    int           // requests in flight; 1 is lockstep
	pace      time.Duration // pause between sends
}

// stream is one running Detect stream: a sender keeps up to window
// requests in flight, a receiver matches every response to its request by
// order and checks it verdict by verdict.
type stream struct {
	id     int
	spec   streamSpec
	obs    *observer
	cancel context.CancelFunc
	stopc  chan struct{}
	done   chan struct{}

	// Owned by the receiver until done is closed.
	responses  []response
	sent       int // samples sent (owned by the sender until it exits)
	verdicts   int
	lost       int // samples sent that got no verdict
	mismatched int // responses with the wrong request id or verdict count
	bad        int // verdicts that break the contract or do not match their sample
	badExample string
	err        error // the stream's error; every stream must end cleanly
}

// pending is a sent request's expectation: its id and, in order, each
// sample's series and timestamp.
type pending struct {
	id     string
	series []string
	nanos  []int64
	sentAt time.Time
}

// maxStreamLife bounds a stream, so a wedged service fails the run instead
// of hanging it.
const maxStreamLife = 5 * time.Minute

func startStream(ctx context.Context, c astraguardv1.DetectorServiceClient, id int, spec streamSpec, obs *observer) (*stream, error) {
	ctx, cancel := context.WithTimeout(ctx, maxStreamLife)
	st, err := c.Detect(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("stream %d: Detect: %w", id, err)
	}
	s := &stream{id: id, spec: spec, obs: obs, cancel: cancel, stopc: make(chan struct{}), done: make(chan struct{})}
	inflight := make(chan pending, spec.window)
	slots := make(chan struct{}, spec.window)
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		defer close(inflight)
		s.send(ctx, st, inflight, slots)
	}()
	go func() {
		defer close(s.done)
		defer cancel()
		s.receive(st, inflight, slots, cancel, senderDone)
	}()
	return s, nil
}

// stop ends sending; the receiver drains every answer still owed, and
// wait returns once the stream is over.
func (s *stream) stop() { close(s.stopc) }

func (s *stream) wait() { <-s.done }

func (s *stream) send(ctx context.Context, st astraguardv1.DetectorService_DetectClient, inflight chan<- pending, slots chan struct{}) {
	tick := time.NewTicker(s.spec.pace)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-s.stopc:
			_ = st.CloseSend()
			return
		case <-ctx.Done():
			return
		case slots <- struct{}{}:
		}
		req := &astraguardv1.DetectRequest{RequestId: strconv.Itoa(i)}
		n := s.spec.feed.Fill(req, s.spec.series, s.spec.perSeries)
		p := pending{id: req.RequestId, series: make([]string, 0, n), nanos: make([]int64, 0, n)}
		for _, ss := range req.GetSeries() {
			for _, ts := range ss.GetUnixNanos() {
				p.series = append(p.series, ss.GetSeriesId())
				p.nanos = append(p.nanos, ts)
			}
		}
		p.sentAt = time.Now()
		inflight <- p // never blocks: slots bound it
		if err := st.Send(req); err != nil {
			return // the receiver sees the stream's status
		}
		s.sent += n
		select {
		case <-s.stopc:
			_ = st.CloseSend()
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *stream) receive(st astraguardv1.DetectorService_DetectClient, inflight <-chan pending, slots <-chan struct{}, cancel context.CancelFunc, senderDone <-chan struct{}) {
	for {
		resp, err := st.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
			cancel() // unblock the sender before waiting for it
			<-senderDone
			for p := range inflight {
				s.lost += len(p.series)
			}
			return
		}
		recvAt := time.Now()
		p, ok := <-inflight
		if !ok {
			s.mismatched++ // an answer nobody asked for
			continue
		}
		s.check(p, resp, recvAt)
		<-slots
	}
}

// check matches resp to p verdict by verdict.
func (s *stream) check(p pending, resp *astraguardv1.DetectResponse, recvAt time.Time) {
	vs := resp.GetVerdicts()
	if resp.GetRequestId() != p.id || len(vs) != len(p.series) {
		s.mismatched++
		s.noteBad(fmt.Sprintf("request %q: response %q with %d verdicts for %d samples", p.id, resp.GetRequestId(), len(vs), len(p.series)))
	}
	got := min(len(vs), len(p.series))
	s.verdicts += got
	s.lost += len(p.series) - got
	r := response{stream: s.id, sentAt: p.sentAt, recvAt: recvAt, samples: got}
	for i, v := range vs[:got] {
		k, why := classify(v)
		if v.GetSeriesId() != p.series[i] || v.GetUnixNanos() != p.nanos[i] {
			k, why = kindBad, fmt.Sprintf("verdict %d is for %s@%d, the sample was %s@%d", i, v.GetSeriesId(), v.GetUnixNanos(), p.series[i], p.nanos[i])
		}
		r.kinds[k]++
		if v.GetFallbackReason() == astraguardv1.FallbackReason_FALLBACK_REASON_MODEL_TIMEOUT {
			r.timeout++
		}
		if k == kindBad {
			s.bad++
			s.noteBad(fmt.Sprintf("request %q: %s", p.id, why))
			continue
		}
		s.obs.note(recvAt, v.GetSeriesId(), k)
	}
	s.responses = append(s.responses, r)
}

func (s *stream) noteBad(msg string) {
	if s.badExample == "" {
		s.badExample = fmt.Sprintf("stream %d: %s", s.id, msg)
	}
}
