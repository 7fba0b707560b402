package server

import (
	"context"
	"unsafe"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// holdQueued takes req's share of MaxQueuedBytes, waiting for room. A
// request larger than the whole budget takes all of it, so it is held
// alone rather than refused: MaxRecvMsgBytes already bounds a request.
func (s *DetectorService) holdQueued(ctx context.Context, req *astraguardv1.DetectRequest) (int64, error) {
	n := min(decodedSize(req), int64(s.cfg.MaxQueuedBytes))
	if !s.queued.TryAcquire(n) {
		if s.hooks.queueWait != nil {
			s.hooks.queueWait()
		}
		if err := s.queued.Acquire(ctx, n); err != nil {
			return 0, err
		}
	}
	held := s.queuedNow.Add(n)
	if s.hooks.queued != nil {
		s.hooks.queued(held)
	}
	return n, nil
}

func (s *DetectorService) releaseQueued(n int64) {
	s.queuedNow.Add(-n)
	s.queued.Release(n)
}

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
