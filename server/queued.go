package server

import (
	"context"
	"unsafe"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// holdQueued takes a request's charge (requestCharge) of MaxQueuedBytes,
// waiting for room, after first taking over have, the charge its stream
// still holds for a response sent earlier: the stream's next response
// cannot leave before that one has drained, and without the takeover a
// stream could wait for room it holds itself. A charge larger than the
// whole budget takes all of it, so the request is held alone rather than
// refused: MaxRecvMsgBytes and MaxSendMsgBytes already bound it.
func (s *DetectorService) holdQueued(ctx context.Context, charge, have int64) (int64, error) {
	n := min(charge, int64(s.cfg.MaxQueuedBytes))
	if have >= n {
		s.releaseQueued(have - n)
		return n, nil
	}
	need := n - have
	if !s.queued.TryAcquire(need) {
		if s.hooks.queueWait != nil {
			s.hooks.queueWait()
		}
		if err := s.queued.Acquire(ctx, need); err != nil {
			s.releaseQueued(have)
			return 0, err
		}
	}
	held := s.queuedNow.Add(need)
	if s.hooks.queued != nil {
		s.hooks.queued(held)
	}
	return n, nil
}

func (s *DetectorService) releaseQueued(n int64) {
	if n == 0 {
		return
	}
	s.queuedNow.Add(-n)
	s.queued.Release(n)
}

// requestCharge is what a request holds of MaxQueuedBytes from admission
// until its response has left the server's buffers: the decoded request,
// the response while it is built (per sample a verdict message, its
// pointer and the detector's verdict; per group a detector group and its
// echoed id), and the encoded response, at most bound bytes, which gRPC
// buffers until the client reads it. A stream gives the charge back when
// its next response is taken by gRPC (which waits until the earlier one
// has drained), when its next request takes the charge over (holdQueued),
// or when it ends.
func requestCharge(req *astraguardv1.DetectRequest, bound int64) int64 {
	samples := int64(countSamples(req.GetSeries(), req.GetFrames()))
	groups := int64(len(req.GetSeries())) + int64(countSamples(nil, req.GetFrames())) // a frame channel is a group
	return decodedSize(req) + samples*verdictMemory + groups*groupMemory + bound
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
func decodedSize(req *astraguardv1.DetectRequest) int64 {
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
