package oip_test

import (
	"runtime"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/detector/oip"
	"github.com/astraguard/astraguard/internal/testkit"
)

// TestResponseDecodeBounded: a model server answering ModelInfer with 15
// MiB of empty output tensors (two bytes each) gets a model error, not a
// response decoded into 1.2 GB of the service's memory.
func TestResponseDecodeBounded(t *testing.T) {
	bomb := testkit.EmptyRepeated(0x2a, 15<<20) // ModelInferResponse.outputs: empty tensors
	srv := grpc.NewServer(grpc.ForceServerCodecV2(testkit.RawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		var req []byte
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		return stream.SendMsg(bomb)
	}))
	addr, _ := testkit.ServeLoopback(t, srv)
	conn, err := oip.NewConn(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := newClient(t, conn, oip.Config{})

	in := []detector.Group{{SeriesID: "s", UnixNanos: []int64{1}, Values: []float64{1}}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = c.Predict(t.Context(), in, make([]detector.Prediction, 1))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "decodes to more than") {
		t.Errorf("Predict() = %v, want the answer refused before decoding", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("Predict() allocated %d MB for a 15 MiB answer, want at most 64 MB", got>>20)
	}
}
