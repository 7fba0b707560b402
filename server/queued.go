package server

import (
	"context"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// holdQueued takes a request's charge (requestCharge) of the admitted
// part of MaxQueuedBytes, waiting for room, after first taking over the
// charge its stream still holds for a response sent earlier (sent; nil
// for DetectBatch): the stream's next response cannot leave before that
// one has drained, and without the takeover a stream could wait for room
// it holds itself. A response the stream's answerer sends while the
// reader waits is taken over too: otherwise streams whose readers all
// wait, each holding its last response's charge, would wait for each
// other for ever. A charge larger than the admitted part (admitBytes)
// takes all of it, so the request is held alone rather than refused:
// MaxRecvMsgBytes and MaxSendMsgBytes already bound it.
func (s *DetectorService) holdQueued(ctx context.Context, charge int64, sent *sentCharge) (int64, error) {
	n := min(charge, s.admitBytes)
	have := sent.take()
	for have < n {
		need := n - have
		if s.queued.TryAcquire(need) {
			have = n
			s.queuedAdd(need)
			break
		}
		if s.hooks.queueWait != nil {
			s.hooks.queueWait()
		}
		err := s.acquireOrSent(ctx, need, sent)
		if err == nil {
			have = n
			s.queuedAdd(need)
			break
		}
		if ctx.Err() != nil {
			s.releaseQueued(have)
			return 0, err
		}
		have += sent.take() // the answerer kept a response's charge meanwhile
	}
	s.releaseQueued(have - n)
	return n, nil
}

// acquireOrSent acquires need bytes of the admitted part, or gives up
// (with an error) when ctx is done or the stream's answerer keeps a new
// response's charge in sent, which the caller takes over first.
func (s *DetectorService) acquireOrSent(ctx context.Context, need int64, sent *sentCharge) error {
	if sent == nil {
		return s.queued.Acquire(ctx, need)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sent.put:
			cancel()
		case <-wctx.Done():
		}
	}()
	return s.queued.Acquire(wctx, need)
}

func (s *DetectorService) queuedAdd(n int64) {
	held := s.queuedNow.Add(n)
	if s.hooks.queued != nil {
		s.hooks.queued(held)
	}
}

// sentCharge is the charge of the response gRPC last took on a stream,
// held until the stream's next Send returns, its next request takes it
// over (holdQueued), or the stream ends: gRPC buffers the response until
// the client reads it. Safe for concurrent use by the stream's reader and
// answerer.
type sentCharge struct {
	n   atomic.Int64
	put chan struct{} // buffered 1: a charge was kept (keep)
}

func newSentCharge() sentCharge { return sentCharge{put: make(chan struct{}, 1)} }

// take takes the charge over; 0 from a nil sentCharge.
func (c *sentCharge) take() int64 {
	if c == nil {
		return 0
	}
	return c.n.Swap(0)
}

// keep keeps n as the charge, tells a waiting reader, and returns the
// charge it replaces, for the caller to give back.
func (c *sentCharge) keep(n int64) int64 {
	old := c.n.Swap(n)
	select {
	case c.put <- struct{}{}:
	default:
	}
	return old
}

func (s *DetectorService) releaseQueued(n int64) {
	if n == 0 {
		return
	}
	s.queuedNow.Add(-n)
	s.queued.Release(n)
}

// waitingShare is the part of MaxQueuedBytes kept for decoded requests
// waiting for admission (1/waitingShare of it, the room); the rest holds
// admitted requests and the responses their clients have not read
// (holdQueued). Together they never pass MaxQueuedBytes: a request
// gRPC has decoded is counted from then on, while it waits for room, for
// its client's rate budget, or to be answered. Half: against 300 streams
// of 22,000-sample requests that never read a response, a quarter refused
// a third of the streams, whose unread responses then stayed in gRPC's
// buffers uncounted, and the server grew beyond the old design's; half
// holds them all and kept the server about a fifth smaller.
const waitingShare = 2

// splitQueued divides MaxQueuedBytes into its admitted part and its
// waiting room.
func splitQueued(total int) (admitted, waiting int64) {
	waiting = int64(total) / waitingShare
	return int64(total) - waiting, waiting
}

// takeWaiting counts a decoded request of n bytes in the waiting room at
// once, or refuses it when the room is full (LimitQueuedBytes).
func (s *DetectorService) takeWaiting(n int64) error {
	if !s.waiting.take(n) {
		return &LimitError{Limit: LimitQueuedBytes, Detail: fmt.Sprintf(
			"decoded requests waiting for room hold the %d bytes kept for them (half of %d); retry later", s.waiting.size, s.cfg.MaxQueuedBytes)}
	}
	s.queuedNow.Add(n)
	return nil
}

func (s *DetectorService) releaseWaiting(n int64) {
	s.waiting.release(n)
	s.queuedNow.Add(-n)
}

// batchRequest is what DetectRequest and DetectBatchRequest share.
type batchRequest interface {
	GetRequestId() string
	GetSeries() []*astraguardv1.SeriesSamples
	GetFrames() []*astraguardv1.Frame
}

// requestCharge is what a request holds of MaxQueuedBytes from admission
// until its response has left the server's buffers: the decoded request,
// the response while it is built (per sample a verdict message, its
// pointer and the detector's verdict; per group a detector group and its
// echoed id), and the encoded response, at most bound bytes, which gRPC
// buffers until the client reads it. A stream gives the charge back when
// its next response is taken by gRPC (which waits until the earlier one
// has drained), when its next request takes the charge over (holdQueued),
// or when it ends. decoded is decodedSize(req), which the caller has
// counted in the waiting room already.
func requestCharge(req batchRequest, decoded, bound int64) int64 {
	samples := int64(countSamples(req.GetSeries(), req.GetFrames()))
	groups := int64(len(req.GetSeries())) + int64(countSamples(nil, req.GetFrames())) // a frame channel is a group
	return decoded + samples*verdictMemory + groups*groupMemory + bound
}

// Memory of a verdict and a group while a response is built (batch).
const (
	verdictMemory = int64(unsafe.Sizeof(astraguardv1.Verdict{}) + unsafe.Sizeof(uintptr(0)) + unsafe.Sizeof(detector.Verdict{}))
	groupMemory   = int64(unsafe.Sizeof(detector.Group{}) + unsafe.Sizeof(""))
)

// Sizes of decoded request parts beyond their variable data: the Go
// struct and the pointer to it.
const (
	requestOverhead = int64(unsafe.Sizeof(astraguardv1.DetectRequest{}))
	seriesOverhead  = int64(unsafe.Sizeof(astraguardv1.SeriesSamples{}) + unsafe.Sizeof(uintptr(0)))
	frameOverhead   = int64(unsafe.Sizeof(astraguardv1.Frame{}) + unsafe.Sizeof(uintptr(0)))
	channelOverhead = int64(unsafe.Sizeof(astraguardv1.Channel{}) + unsafe.Sizeof(uintptr(0)))
)

// decodedSize estimates the memory a decoded request holds. It costs one
// step per series and per channel, never per value, unlike proto.Size,
// which walks every varint of unix_nanos; and a decoded frame channel
// takes about three times its wire size, which proto.Size would miss.
func decodedSize(req batchRequest) int64 {
	n := requestOverhead + int64(len(req.GetRequestId()))
	for _, s := range req.GetSeries() {
		n += seriesOverhead + int64(len(s.GetSeriesId())) + 8*int64(len(s.GetUnixNanos())+len(s.GetValues()))
	}
	for _, f := range req.GetFrames() {
		n += frameOverhead + int64(len(f.GetSource()))
		for _, c := range f.GetChannels() {
			n += channelOverhead + int64(len(c.GetName()))
		}
	}
	return n
}
