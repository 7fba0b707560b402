package server

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// benchRequests are a typical columnar batch, a full one and a frame batch.
func benchRequests() map[string]*astraguardv1.DetectRequest {
	reqs := map[string]*astraguardv1.DetectRequest{}
	for _, n := range []int{100, 100_000} {
		s := &astraguardv1.SeriesSamples{SeriesId: "sat1/voltage", UnixNanos: make([]int64, n), Values: make([]float64, n)}
		for i := range n {
			s.UnixNanos[i], s.Values[i] = 1_764_158_400_000_000_000+int64(i), 8.1
		}
		reqs[fmt.Sprintf("columnar%d", n)] = &astraguardv1.DetectRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{s}}
	}
	f := &astraguardv1.Frame{Source: "sat1", UnixNanos: 1_764_158_400_000_000_000}
	for i := range 100 {
		f.Channels = append(f.Channels, &astraguardv1.Channel{Name: fmt.Sprintf("ch%d", i), Value: 8.1})
	}
	reqs["frames100"] = &astraguardv1.DetectRequest{RequestId: "r", Frames: []*astraguardv1.Frame{f}}
	return reqs
}

// BenchmarkRequestWeight compares the cost of weighing a request for
// MaxQueuedBytes with proto.Size and with decodedSize, against scoring it
// (heuristic path, breaker forced open), which every request pays anyway.
func BenchmarkRequestWeight(b *testing.B) {
	breakers, err := breaker.NewRegistry(strict)
	if err != nil {
		b.Fatal(err)
	}
	br := breakers.Breaker("model")
	br.ForceOpen("bench", 0)
	det, err := detector.New(&fakeModel{}, br, detector.Config{})
	if err != nil {
		b.Fatal(err)
	}
	svc := NewDetectorService(det, 0)
	for name, req := range benchRequests() {
		b.Run(name+"/protoSize", func(b *testing.B) {
			for b.Loop() {
				_ = proto.Size(req)
			}
		})
		b.Run(name+"/decodedSize", func(b *testing.B) {
			for b.Loop() {
				_ = decodedSize(req)
			}
		})
		b.Run(name+"/score", func(b *testing.B) {
			bt := batch{maxID: svc.maxID}
			for b.Loop() {
				_ = svc.score(b.Context(), &bt, req.GetSeries(), req.GetFrames())
			}
		})
	}
}
