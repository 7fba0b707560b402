package server

import (
	"errors"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// FuzzDetectRequest feeds arbitrary wire bytes through request decoding,
// admission (samples per request, series per stream), conversion and
// scoring: whatever arrives, the service must answer with exactly one
// verdict per sample or refuse with the limit named, and never panic; the
// response, as the server's codec encodes it, is within its size bound and
// decodes (with protobuf-go) to itself.
func FuzzDetectRequest(f *testing.F) {
	seeds := []*astraguardv1.DetectRequest{
		{Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/voltage", UnixNanos: []int64{1, 2}, Values: []float64{8, math.NaN()}}}},
		{Series: []*astraguardv1.SeriesSamples{{SeriesId: "", Values: []float64{math.Inf(1)}}}},
		{Series: []*astraguardv1.SeriesSamples{{SeriesId: "ünï/çødé\u200b", UnixNanos: []int64{math.MaxInt64}, Values: []float64{1e308}}}},
		{Frames: []*astraguardv1.Frame{{Source: "sat1", Channels: []*astraguardv1.Channel{{Name: "gyro", Value: -0.2}, {Name: "", Value: 1}}}}},
		{},
		{Series: []*astraguardv1.SeriesSamples{{SeriesId: "negative zero", Values: []float64{math.Copysign(0, -1), math.Copysign(0, -1), -1e-300}}}},
		{Series: []*astraguardv1.SeriesSamples{{SeriesId: "big", Values: make([]float64, 10_001)}}}, // over the limit
		{Series: []*astraguardv1.SeriesSamples{{SeriesId: "big", Values: make([]float64, 5_000)}, {SeriesId: "big", Values: make([]float64, 5_000)}}},
	}
	for _, s := range seeds {
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	e := newFuzzEnv(f)
	codec := newServerCodec(decodedBound(4<<20), nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &astraguardv1.DetectRequest{}
		if err := proto.Unmarshal(data, req); err != nil {
			return // the transport rejects what does not decode
		}
		n := countSamples(req.GetSeries(), req.GetFrames())
		bound := responseBound(req.GetRequestId(), req.GetSeries(), req.GetFrames(), e.maxID)
		if _, err := e.admit(t.Context(), "fuzz", req.GetRequestId(), req.GetSeries(), req.GetFrames()); err != nil {
			if requestCost(req.GetSeries(), req.GetFrames()) <= e.cfg.MaxSamplesPerRequest && bound <= int64(e.cfg.MaxSendMsgBytes) {
				t.Fatalf("admit() error = %v for %d samples", err, n)
			}
			return
		}
		ss := newSeriesSet(3, e.maxID)
		if err := ss.add(req.GetSeries(), req.GetFrames()); err != nil {
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != LimitSeriesPerStream || le.Got <= le.Max || le.Got > len(req.GetSeries())+n {
				t.Fatalf("series per stream: %v", err)
			}
		}
		b := batch{maxID: e.maxID}
		verdicts := e.score(t.Context(), &b, req.GetSeries(), req.GetFrames())
		if len(verdicts) != n {
			t.Fatalf("score() = %d verdicts for %d samples", len(verdicts), n)
		}
		resp := &astraguardv1.DetectResponse{RequestId: echoRequestID(req.GetRequestId()), Verdicts: verdicts}
		if _, err := proto.Marshal(resp); err != nil {
			t.Fatalf("response does not marshal: %v", err) // e.g. an id cut inside a character
		}
		if size := proto.Size(resp); int64(size) > bound {
			t.Fatalf("response of %d bytes, over its bound %d", size, bound)
		}
		checkEncoding(t, codec, resp) // what is sent is the generated encoding
		for _, v := range verdicts {
			if len(v.GetSeriesId()) > e.maxID {
				t.Fatalf("verdict echoes a %d-byte series id, over the %d-byte limit", len(v.GetSeriesId()), e.maxID)
			}
			if v.GetError() == nil && (v.GetScore() < 0 || v.GetScore() > 1 || math.IsNaN(v.GetScore())) {
				t.Fatalf("verdict %v: score outside [0, 1]", v)
			}
		}
	})
}
