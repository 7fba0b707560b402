package loadtest

import (
	"context"
	"errors"
	"io"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// Echo is a DetectorService that scores nothing: every sample gets a verdict
// carrying its series id and timestamp, score 0 and source MODEL. Its cost is
// gRPC's own (decode, encode, flow control), the floor for the real service.
// Echo is safe for concurrent use; its zero value is ready.
type Echo struct {
	astraguardv1.UnimplementedDetectorServiceServer
	// Shaped fills each verdict as the service's model path does (a score,
	// a mechanism and an expected band), so the response has the service's
	// fields and size: a second floor, which tells what the response's
	// shape costs apart from what scoring costs.
	Shaped bool
}

var _ astraguardv1.DetectorServiceServer = Echo{}

// Detect answers each request with one response, in order.
func (e Echo) Detect(stream astraguardv1.DetectorService_DetectServer) error {
	// Verdicts are reused across responses, as the real service reuses its
	// buffers: Send has marshalled the message by the time it returns.
	var pool []pooledVerdict
	resp := &astraguardv1.DetectResponse{}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		resp.RequestId = req.GetRequestId()
		resp.Verdicts, pool = e.verdicts(resp.Verdicts[:0], pool, req.GetSeries(), req.GetFrames())
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// DetectBatch answers one batch.
func (e Echo) DetectBatch(_ context.Context, req *astraguardv1.DetectBatchRequest) (*astraguardv1.DetectBatchResponse, error) {
	vs, _ := e.verdicts(nil, nil, req.GetSeries(), req.GetFrames())
	return &astraguardv1.DetectBatchResponse{RequestId: req.GetRequestId(), Verdicts: vs}, nil
}

// pooledVerdict is a reusable verdict and the band it points to.
type pooledVerdict struct {
	v        astraguardv1.Verdict
	expected astraguardv1.Expectation
}

// verdicts appends one verdict per sample to dst, taking the verdicts
// from pool (grown as needed), and returns dst and the pool.
func (e Echo) verdicts(dst []*astraguardv1.Verdict, pool []pooledVerdict, series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) ([]*astraguardv1.Verdict, []pooledVerdict) {
	n := 0
	for _, s := range series {
		n += len(s.GetValues())
	}
	for _, f := range frames {
		n += len(f.GetChannels())
	}
	if cap(pool) < n {
		pool = make([]pooledVerdict, n)
	}
	pool = pool[:n]
	i := 0
	next := func(id string, ts int64) {
		v := &pool[i].v
		v.Reset()
		v.SeriesId, v.UnixNanos, v.Source = id, ts, astraguardv1.Source_SOURCE_MODEL
		if e.Shaped {
			// Typical values: as many bytes on the wire as the real ones.
			x := &pool[i].expected
			x.Value, x.Lower, x.Upper = 8.013, 7.642, 8.384
			v.Score, v.Mechanism, v.Expected = 0.0734, astraguardv1.Mechanism_MECHANISM_SHIFT, x
		}
		dst = append(dst, v)
		i++
	}
	for _, s := range series {
		ts := s.GetUnixNanos()
		for j := range s.GetValues() {
			var t int64
			if j < len(ts) {
				t = ts[j]
			}
			next(s.GetSeriesId(), t)
		}
	}
	for _, f := range frames {
		for _, c := range f.GetChannels() {
			next(f.GetSource()+"/"+c.GetName(), f.GetUnixNanos())
		}
	}
	return dst, pool
}
