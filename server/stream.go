package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// Detect answers each request on the stream with one response, in order.
//
// Three goroutines serve a stream. A reader receives and admits requests
// into a bounded queue, so decoding the next request overlaps scoring this
// one, and a client that sends faster than it is answered is slowed by
// HTTP/2 flow control instead of growing the server's memory. An answerer
// scores and sends. The handler waits for the answerer and watches its
// Send: a client that stops reading blocks Send on flow control, and only
// the handler's return can end that, so after SendTimeout it returns
// RESOURCE_EXHAUSTED. A limit broken by a request ends the stream after
// every earlier request has been answered. A panic in the reader or the
// answerer ends the stream with INTERNAL and is logged with its stack.
func (s *DetectorService) Detect(stream astraguardv1.DetectorService_DetectServer) error {
	err := s.detect(stream)
	if s.hooks.ended != nil {
		s.hooks.ended(err)
	}
	return err
}

func (s *DetectorService) detect(stream astraguardv1.DetectorService_DetectServer) error {
	ctx := stream.Context()
	client := s.clientKey(ctx)
	if err := s.streams.acquire(client); err != nil {
		return s.fail(err)
	}
	defer s.streams.release(client)
	ds := &detectStream{
		svc:    s,
		stream: stream,
		client: client,
		series: newSeriesSet(s.cfg.MaxSeriesPerStream, s.maxID),
		queue:  make(chan queuedRequest, s.cfg.QueueDepth),
		stall:  time.NewTimer(time.Hour),
		sent:   newSentCharge(),
		epoch:  time.Now(),
	}
	ds.stall.Stop()
	answered := make(chan error, 1)
	s.workers.Add(2)
	go func() {
		defer s.workers.Done()
		ds.read(ctx)
	}()
	go func() {
		defer s.workers.Done()
		answered <- ds.answer(ctx)
		// Once the handler returns the reader closes the queue, so this
		// ends; not deferred, so that it cannot hold up a panic.
		ds.releaseQueued()
	}()
	for {
		select {
		case err := <-answered:
			return s.fail(err)
		case <-ds.stall.C:
			// The timer may fire just as a Send completes; only a Send still
			// running after SendTimeout means the client stopped reading.
			if ds.sendStalled() {
				return s.fail(&LimitError{Limit: LimitSendTimeout,
					Detail: fmt.Sprintf("client not reading responses for %v", s.cfg.SendTimeout)})
			}
		}
	}
}

// detectStream is one Detect stream's state, shared by its reader and
// answerer.
type detectStream struct {
	svc    *DetectorService
	stream astraguardv1.DetectorService_DetectServer
	client string
	series *seriesSet // reader only
	queue  chan queuedRequest
	// readErr ends the stream once the queue is drained; written by the
	// reader before it closes queue, read by the answerer after.
	readErr  error
	stall    *time.Timer  // armed while Send runs
	epoch    time.Time    // origin of sendSince, for a monotonic clock
	inFlight atomic.Int32 // requests read and not yet answered
	// sent is the charge of the response gRPC last took (sentCharge).
	sent sentCharge
	// sendSince is when the running Send began, in nanoseconds since
	// epoch plus one; 0 while no Send runs.
	sendSince atomic.Int64
}

// queuedRequest is an admitted request and the bytes of MaxQueuedBytes it
// holds until answered.
type queuedRequest struct {
	req  *astraguardv1.DetectRequest
	held int64
}

// read receives and admits requests until the client closes its side, a
// request breaks a limit, or the stream ends.
func (ds *detectStream) read(ctx context.Context) {
	defer func() {
		// readErr must be set before close: the answerer reads it after.
		if p := recover(); p != nil {
			ds.readErr = ds.svc.recovered(ctx, p)
		}
		close(ds.queue)
	}()
	for {
		req, err := ds.stream.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				ds.readErr = recvError(err)
			}
			return
		}
		n := ds.inFlight.Add(1)
		if h := ds.svc.hooks.inFlight; h != nil {
			h(int(n))
		}
		// Counted from now on: a request waiting for room or for its
		// client's rate budget is in memory too.
		decoded := decodedSize(req)
		charge, err := ds.admit(ctx, req, decoded)
		if err != nil {
			ds.readErr = fmt.Errorf("request %s: %w", quoteRequestID(req.GetRequestId()), err)
			return
		}
		held, err := ds.svc.holdQueued(ctx, charge, &ds.sent)
		ds.svc.releaseWaiting(decoded) // the charge covers it now
		if err != nil {
			return // the stream ended
		}
		select {
		case ds.queue <- queuedRequest{req, held}:
		case <-ctx.Done():
			ds.svc.releaseQueued(held)
			return
		}
	}
}

// admit counts req's decoded bytes in the waiting room, checks it against
// the limits and returns its requestCharge. On an error nothing stays
// counted.
func (ds *detectStream) admit(ctx context.Context, req *astraguardv1.DetectRequest, decoded int64) (charge int64, err error) {
	if err := ds.svc.takeWaiting(decoded); err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			ds.svc.releaseWaiting(decoded)
		}
	}()
	n := requestCost(req.GetSeries(), req.GetFrames())
	if max := ds.svc.cfg.MaxSamplesPerRequest; n > max {
		return 0, &LimitError{Limit: LimitSamplesPerRequest, Max: max, Got: n}
	}
	bound, err := ds.svc.checkResponseSize(req.GetRequestId(), req.GetSeries(), req.GetFrames())
	if err != nil {
		return 0, err
	}
	if err := ds.series.add(req.GetSeries(), req.GetFrames()); err != nil {
		return 0, err
	}
	return requestCharge(req, decoded, bound), ds.svc.limiter.take(ctx, ds.client, n)
}

// maxQuotedRequestID bounds the bytes of a request id that go into a
// status message and so into logs; the id is the client's free text.
const maxQuotedRequestID = 64

// quoteRequestID quotes id for an error message, cut to
// maxQuotedRequestID bytes with "..." after the quotes when longer.
func quoteRequestID(id string) string {
	if len(id) <= maxQuotedRequestID {
		return strconv.Quote(id)
	}
	return strconv.Quote(echoID(id, maxQuotedRequestID)) + "..."
}

// recvError names the message size limit when gRPC refused an oversized
// request; other receive errors are statuses already.
func recvError(err error) error {
	if st, ok := status.FromError(err); ok && st.Code() == codes.ResourceExhausted {
		return &LimitError{Limit: LimitMessageSize, Detail: st.Message()}
	}
	return err
}

// answer scores and sends the queued requests in order, then returns the
// reader's verdict on how the stream ended.
func (ds *detectStream) answer(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = ds.svc.recovered(ctx, p)
		}
	}()
	b := batch{maxID: ds.svc.maxID}
	resp := &astraguardv1.DetectResponse{}
	defer func() { ds.svc.releaseQueued(ds.sent.take()) }()
	for q := range ds.queue {
		if err := ds.respond(ctx, &b, resp, q); err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // the client went away
			}
			return err
		}
	}
	if ds.readErr == nil && ctx.Err() != nil {
		return ctx.Err() // the connection went away, not a half-close
	}
	return ds.readErr
}

// respond scores and sends one request. Once gRPC has taken the response
// it keeps the request's charge in ds.sent and gives back the previous
// response's, if no request took it over: gRPC buffers a response until
// the client reads it, and a Send returns only once the previous response
// has (mostly) drained. On a failed Send or a panic the charge is given
// back at once.
func (ds *detectStream) respond(ctx context.Context, b *batch, resp *astraguardv1.DetectResponse, q queuedRequest) error {
	held := q.held
	defer func() { ds.svc.releaseQueued(held) }()
	ctx, span := ds.svc.tracer.startRequest(ctx)
	if span != nil {
		defer span.End()
	}
	defer ds.inFlight.Add(-1)
	resp.RequestId, resp.Verdicts = echoRequestID(q.req.GetRequestId()), ds.svc.score(ctx, b, q.req.GetSeries(), q.req.GetFrames())
	ds.sendSince.Store(int64(time.Since(ds.epoch)) + 1)
	ds.stall.Reset(ds.svc.cfg.SendTimeout)
	err := ds.stream.Send(resp)
	ds.sendSince.Store(0)
	if h := ds.svc.hooks.sent; h != nil {
		h(ds.stall)
	}
	ds.stall.Stop()
	if err == nil {
		ds.svc.releaseQueued(ds.sent.keep(held))
		held = 0
	}
	b.shrink()
	return err
}

// sendStalled reports whether a Send has been running for SendTimeout.
func (ds *detectStream) sendStalled() bool {
	since := ds.sendSince.Load()
	return since != 0 && time.Since(ds.epoch)-time.Duration(since-1) >= ds.svc.cfg.SendTimeout
}

// releaseQueued gives back what the requests left in the queue hold once
// the answerer stops early; the reader closes the queue when the stream
// ends.
func (ds *detectStream) releaseQueued() {
	for q := range ds.queue {
		ds.svc.releaseQueued(q.held)
	}
}
