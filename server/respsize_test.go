package server

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestVerdictBoundCoversEveryField fails when Verdict gains a field that
// longestVerdict cannot size; responseBound would then undercount it.
func TestVerdictBoundCoversEveryField(t *testing.T) {
	fields := (&astraguardv1.Verdict{}).ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch _, ok := longestScalar(fd); {
		case fd.Name() == "series_id", fd.Name() == "error", fd.Name() == "expected":
		case !ok || fd.IsList():
			t.Errorf("Verdict field %s (%v) is not sized by responseBound", fd.Name(), fd.Kind())
		}
	}
}

// worstValues are n values cycling through the verdict shapes: scored,
// anomalous, over an operating limit, and refused (NaN, Inf).
func worstValues(n int) []float64 {
	shapes := []float64{1, 99, 1e9, math.NaN(), math.Inf(1)}
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = shapes[i%len(shapes)]
	}
	return vs
}

// responseShapes build requests of n samples in the shapes that make
// responses large.
var responseShapes = map[string]func(n int) *astraguardv1.DetectBatchRequest{
	"long series id": func(n int) *astraguardv1.DetectBatchRequest {
		return &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: strings.Repeat("s", 252) + "/vol", Values: worstValues(n)}}}
	},
	"over-long series id": func(n int) *astraguardv1.DetectBatchRequest {
		return &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: strings.Repeat("s", 10_000), Values: worstValues(n)}}}
	},
	"many short series": func(n int) *astraguardv1.DetectBatchRequest {
		req := &astraguardv1.DetectBatchRequest{}
		for i, v := range worstValues(n) {
			req.Series = append(req.Series, &astraguardv1.SeriesSamples{SeriesId: fmt.Sprintf("%06d", i), Values: []float64{v}})
		}
		return req
	},
	"frame channels with long ids": func(n int) *astraguardv1.DetectBatchRequest {
		f := &astraguardv1.Frame{Source: strings.Repeat("f", 200)}
		for i, v := range worstValues(n) {
			f.Channels = append(f.Channels, &astraguardv1.Channel{Name: fmt.Sprintf("%055d", i), Value: v})
		}
		return &astraguardv1.DetectBatchRequest{Frames: []*astraguardv1.Frame{f}}
	},
	"long request id": func(n int) *astraguardv1.DetectBatchRequest {
		return &astraguardv1.DetectBatchRequest{RequestId: strings.Repeat("r", 3<<20), Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/voltage", Values: worstValues(n)}}}
	},
}

// largestAccepted is the most samples of shape whose response bound
// fits max. Every shape's bound grows by the same amount per sample.
func largestAccepted(t *testing.T, shape func(int) *astraguardv1.DetectBatchRequest, max int64) int {
	t.Helper()
	bound := func(n int) int64 {
		req := shape(n)
		return responseBound(req.GetRequestId(), req.GetSeries(), req.GetFrames(), 256)
	}
	one, per := bound(1), bound(2)-bound(1)
	n := int((max-one)/per) + 1
	if bound(n) > max || bound(n+1) <= max {
		t.Fatalf("bound is not linear in the samples of this shape")
	}
	return n
}

// TestResponseFitsDefaultClient sends, in every shape, the largest request
// the server accepts and one sample more, through a client with gRPC's
// default 4 MiB receive limit: the first is answered in full, the second
// refused up front naming the limit, never answered with an unreadable
// message.
func TestResponseFitsDefaultClient(t *testing.T) {
	e := newEnv(t, Config{})
	for name, shape := range responseShapes {
		t.Run(name, func(t *testing.T) {
			n := largestAccepted(t, shape, 4<<20)
			if n < 1000 {
				t.Fatalf("only %d samples fit", n)
			}
			resp, err := e.detect.DetectBatch(t.Context(), shape(n))
			if err != nil || len(resp.GetVerdicts()) != n {
				t.Fatalf("DetectBatch(%d samples) = %d verdicts, %v; want all", n, len(resp.GetVerdicts()), err)
			}
			t.Logf("%s: %d samples fit: a %d-byte response", name, n, proto.Size(resp))
			_, err = e.detect.DetectBatch(t.Context(), shape(n+1))
			if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "limit exceeded: "+LimitResponseSize) {
				t.Errorf("DetectBatch(%d samples) = %v, want RESOURCE_EXHAUSTED naming %q", n+1, err, LimitResponseSize)
			}
		})
	}
}

// TestResponseSizeOnDetect: the case, 100,000 samples under a
// 256-byte id, on a stream after a normal request: the normal one is
// answered, then the stream ends naming the limit.
func TestResponseSizeOnDetect(t *testing.T) {
	e := newEnv(t, Config{})
	stream, err := e.detect.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	big := &astraguardv1.DetectRequest{RequestId: "big", Series: []*astraguardv1.SeriesSamples{{SeriesId: strings.Repeat("s", 256), Values: make([]float64, 100_000)}}}
	for _, req := range []*astraguardv1.DetectRequest{{RequestId: "ok", Series: []*astraguardv1.SeriesSamples{series("s", 3)}}, big} {
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	if resp, err := stream.Recv(); err != nil || resp.GetRequestId() != "ok" {
		t.Fatalf("Recv() = %v, %v; want the answer to the request before the big one", resp, err)
	}
	_, err = stream.Recv()
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), LimitResponseSize) || !strings.Contains(err.Error(), `"big"`) {
		t.Errorf("Recv() = %v, want RESOURCE_EXHAUSTED naming %q and the request", err, LimitResponseSize)
	}
}
