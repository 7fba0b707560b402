package server

import (
	"context"
	"errors"
	"fmt"
	"io"
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
// every earlier request has been answered.
func (s *DetectorService) Detect(stream astraguardv1.DetectorService_DetectServer) error {
	err := s.detect(stream)
	if s.hooks.ended != nil {
		s.hooks.ended(err)
	}
	return err
}

func (s *DetectorService) detect(stream astraguardv1.DetectorService_DetectServer) error {
	if n := s.open.Add(1); n > int64(s.cfg.MaxDetectStreams) {
		s.open.Add(-1)
		return s.fail(&LimitError{Limit: LimitDetectStreams, Max: s.cfg.MaxDetectStreams, Got: int(n)})
	}
	defer s.open.Add(-1)
	ctx := stream.Context()
	ds := &detectStream{
		svc:    s,
		stream: stream,
		client: s.clientKey(ctx),
		series: newSeriesSet(s.cfg.MaxSeriesPerStream),
		queue:  make(chan *astraguardv1.DetectRequest, s.cfg.QueueDepth),
		stall:  time.NewTimer(time.Hour),
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
	}()
	select {
	case err := <-answered:
		return s.fail(err)
	case <-ds.stall.C:
		return s.fail(&LimitError{Limit: LimitSendTimeout,
			Detail: fmt.Sprintf("client not reading responses for %v", s.cfg.SendTimeout)})
	}
}

// detectStream is one Detect stream's state, shared by its reader and
// answerer.
type detectStream struct {
	svc    *DetectorService
	stream astraguardv1.DetectorService_DetectServer
	client string
	series *seriesSet // reader only
	queue  chan *astraguardv1.DetectRequest
	// readErr ends the stream once the queue is drained; written by the
	// reader before it closes queue, read by the answerer after.
	readErr  error
	stall    *time.Timer  // armed while Send runs
	inFlight atomic.Int32 // requests read and not yet answered
}

// read receives and admits requests until the client closes its side, a
// request breaks a limit, or the stream ends.
func (ds *detectStream) read(ctx context.Context) {
	defer close(ds.queue)
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
		if err := ds.admit(ctx, req); err != nil {
			ds.readErr = fmt.Errorf("request %q: %w", req.GetRequestId(), err)
			return
		}
		select {
		case ds.queue <- req:
		case <-ctx.Done():
			return
		}
	}
}

func (ds *detectStream) admit(ctx context.Context, req *astraguardv1.DetectRequest) error {
	n := countSamples(req.GetSeries(), req.GetFrames())
	if max := ds.svc.cfg.MaxSamplesPerRequest; n > max {
		return &LimitError{Limit: LimitSamplesPerRequest, Max: max, Got: n}
	}
	if err := ds.series.add(req.GetSeries(), req.GetFrames()); err != nil {
		return err
	}
	return ds.svc.limiter.take(ctx, ds.client, n)
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
func (ds *detectStream) answer(ctx context.Context) error {
	var b batch
	resp := &astraguardv1.DetectResponse{}
	timeout := ds.svc.cfg.SendTimeout
	for req := range ds.queue {
		resp.RequestId, resp.Verdicts = req.GetRequestId(), ds.svc.score(ctx, &b, req.GetSeries(), req.GetFrames())
		ds.stall.Reset(timeout)
		err := ds.stream.Send(resp)
		ds.stall.Stop()
		ds.inFlight.Add(-1)
		if err != nil {
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
