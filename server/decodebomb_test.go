package server

import (
	"runtime"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/protolimit"
	"github.com/astraguard/astraguard/internal/testkit"
)

// TestDecodeBombRefused: a request of nearly 4 MiB of empty series (two
// bytes each), gzip-compressed to a few KB (the binaries accept gzip: the
// OpenTelemetry exporters register it), is refused before it is decoded,
// on DetectBatch and on a Detect stream. Decoded, each took 300 MB and
// seconds of CPU for its two million empty groups: eight at once held
// 6 GB of the real service.
func TestDecodeBombRefused(t *testing.T) {
	e := newTCPEnv(t, Config{}, tcpOptions{})
	_, conn := e.client(t, grpc.WithDefaultCallOptions(sendRaw, grpc.UseCompressor(gzip.Name)))
	bomb := rawMsg(testkit.EmptyRepeated(0x12, 4<<20-64)) // DetectBatchRequest.series: empty series
	const want = "decodes to more than 67108864 bytes"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := conn.Invoke(t.Context(), "/astraguard.v1.DetectorService/DetectBatch", bomb, &astraguardv1.DetectBatchResponse{})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("DetectBatch(2M empty series) = %v, want refused: %s", err, want)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("DetectBatch(2M empty series) allocated %d MB, want at most 64 MB", got>>20)
	}

	stream, err := conn.NewStream(t.Context(), &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, "/astraguard.v1.DetectorService/Detect")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.SendMsg(bomb); err != nil {
		t.Fatal(err)
	}
	if err := stream.RecvMsg(&astraguardv1.DetectResponse{}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Detect(2M empty series) = %v, want the stream ended: %s", err, want)
	}
	stillServes(t, e)
}

// TestDecodeBoundAdmitsLargestRequests: the requests at the other limits
// (100,000 samples: columnar with timestamps, or frame channels with
// 28-byte names, one frame each or all in one) are within the decoded
// bound at the default message size.
func TestDecodeBoundAdmitsLargestRequests(t *testing.T) {
	const n = 100_000
	col := &astraguardv1.SeriesSamples{SeriesId: "sat1/bus-a/voltage", UnixNanos: make([]int64, n), Values: make([]float64, n)}
	for i := range n {
		col.UnixNanos[i], col.Values[i] = 1_764_158_400_000_000_000+int64(i)*1e9, float64(i)
	}
	name := strings.Repeat("c", 28)
	oneFrame := &astraguardv1.Frame{Source: "sat1"}
	var frames []*astraguardv1.Frame
	for range n {
		ch := &astraguardv1.Channel{Name: name, Value: 1.5}
		oneFrame.Channels = append(oneFrame.Channels, ch)
		frames = append(frames, &astraguardv1.Frame{Source: "sat1", UnixNanos: 1_764_158_400_000_000_000, Channels: []*astraguardv1.Channel{ch}})
	}
	for label, req := range map[string]*astraguardv1.DetectRequest{
		"columnar":     {RequestId: "r", Series: []*astraguardv1.SeriesSamples{col}},
		"one frame":    {RequestId: "r", Frames: []*astraguardv1.Frame{oneFrame}},
		"a frame each": {RequestId: "r", Frames: frames},
	} {
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := protolimit.Check(b, req, decodedBound(4<<20)); err != nil {
			t.Errorf("%s (%d bytes): %v", label, len(b), err)
		}
	}
}

// TestEmptyGroupsCount: a series without values and a frame without
// channels each count as one sample against --max-samples-per-request
// (and the client's rate). They carry nothing to score but cost a decode
// and a group each: 400,000 of them fit the decoded bound, at 0.6 s and
// 220 MB a request. Counted, such a request is refused like any over the
// bound.
func TestEmptyGroupsCount(t *testing.T) {
	e := newTCPEnv(t, Config{MaxSamplesPerRequest: 10}, tcpOptions{})
	c, _ := e.client(t)
	req := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{series("s", 2)}}
	for range 6 {
		req.Series = append(req.Series, &astraguardv1.SeriesSamples{SeriesId: "empty"})
	}
	for range 3 {
		req.Frames = append(req.Frames, &astraguardv1.Frame{Source: "sat1"})
	}
	_, err := c.DetectBatch(t.Context(), req)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "samples per request: 11 > 10") {
		t.Errorf("DetectBatch(2 samples, 6 empty series, 3 empty frames) = %v, want samples per request: 11 > 10", err)
	}
	req.Frames = req.Frames[:2]
	if resp, err := c.DetectBatch(t.Context(), req); err != nil || len(resp.GetVerdicts()) != 2 {
		t.Errorf("DetectBatch(cost 10) = %v, %v; want 2 verdicts", resp, err)
	}
}
