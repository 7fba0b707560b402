package client

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/protolimit"
	"github.com/astraguard/astraguard/internal/testkit"
)

// TestResponseDecodeBounded: a replica answering with 4 MiB of empty
// verdicts (two bytes each) fails the call instead of being decoded into
// some 300 MB of the client's memory.
func TestResponseDecodeBounded(t *testing.T) {
	bomb := testkit.EmptyRepeated(0x12, 4<<20-64) // DetectResponse.verdicts: empty verdicts
	srv := grpc.NewServer(grpc.ForceServerCodecV2(testkit.RawCodec{}), grpc.UnknownServiceHandler(func(_ any, s grpc.ServerStream) error {
		for {
			var req []byte
			if err := s.RecvMsg(&req); err != nil {
				return nil
			}
			if err := s.SendMsg(bomb); err != nil {
				return err
			}
		}
	}))
	addr, _ := testkit.ServeLoopback(t, srv)
	c := newClient(t, []string{addr}, Config{Backoff: time.Millisecond, MaxAttempts: 1})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := c.Detect(ctx, req("k", 1, 1))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "decodes to more than") {
		t.Errorf("Detect() = %v, want the response refused before decoding", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("Detect() allocated %d MB for a 4 MiB response, want at most 64 MB", got>>20)
	}
}

// TestLargestResponseWithinBound: the largest response the service sends
// (verdicts at their longest, with the expected band and a policy name,
// up to its 4 MiB send limit) is well within the decoded bound.
func TestLargestResponseWithinBound(t *testing.T) {
	resp := &astraguardv1.DetectResponse{RequestId: strings.Repeat("r", 64)}
	for i := 0; i < 4<<20/150; i++ { // about 150 bytes a verdict: 4 MiB
		resp.Verdicts = append(resp.Verdicts, &astraguardv1.Verdict{
			SeriesId: fmt.Sprintf("sat%d/bus-a/voltage", i), UnixNanos: 1_764_158_400_000_000_000 + int64(i), Score: 0.5, Anomaly: true,
			Source: astraguardv1.Source_SOURCE_MODEL, Mechanism: astraguardv1.Mechanism_MECHANISM_SHIFT, Policy: strings.Repeat("p", 64),
			Expected: &astraguardv1.Expectation{Value: 1.5, Lower: 1, Upper: 2},
		})
	}
	b, err := proto.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if err := protolimit.Check(b, resp, MaxDecodedResponseBytes/2); err != nil {
		t.Errorf("%d verdicts: %v", len(resp.Verdicts), err)
	}
}
