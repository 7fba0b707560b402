package loadtest

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/client"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/testkit"
)

// flakyEcho answers like Echo but ends every stream with failWith after
// answering `answer` requests and reading the next `unanswered` ones, so
// those were sent and never acknowledged. dup answers every request twice.
type flakyEcho struct {
	Echo
	answer, unanswered int
	failWith           error
	dup                bool
	streams            atomic.Int64
}

func (e *flakyEcho) Detect(stream astraguardv1.DetectorService_DetectServer) error {
	e.streams.Add(1)
	for i := 0; ; i++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if e.failWith != nil && i >= e.answer {
			if i+1 >= e.answer+e.unanswered {
				return e.failWith
			}
			continue
		}
		vs, _ := Echo{}.verdicts(nil, nil, req.GetSeries(), req.GetFrames())
		resp := &astraguardv1.DetectResponse{RequestId: req.GetRequestId(), Verdicts: vs}
		for range 1 + btoi(e.dup) {
			if err := stream.Send(resp); err != nil {
				return err
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func resilientConfig(streams, requests int) ResilientConfig {
	return ResilientConfig{
		ThroughputConfig: ThroughputConfig{Shape: Shape{SeriesPerRequest: 2, SamplesPerSeries: 3}, Streams: streams, Window: 4, Requests: requests},
	}
}

// newClient serves svc on a loopback port and returns a client.Client over
// it that keys requests by logical stream.
func newClient(t *testing.T, cfg client.Config, svcs ...astraguardv1.DetectorServiceServer) *client.Client {
	t.Helper()
	var addrs []string
	for _, svc := range svcs {
		a, _ := listen(t, svc)
		addrs = append(addrs, a)
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	c, err := client.New(strings.Join(addrs, ","), cfg, client.WithPartitionKey(StreamKey))
	if err != nil {
		t.Fatalf("client.New() = %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestResilientResendsUnanswered(t *testing.T) {
	srv := &flakyEcho{answer: 5, unanswered: 2, failWith: status.Error(codes.Unavailable, "going away")}
	c := newClient(t, client.Config{}, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := Resilient(ctx, c, newTestWorkload(t, 20).Split(2), resilientConfig(2, 30))
	if err != nil {
		t.Fatalf("Resilient() = %v", err)
	}
	const want = 2 * 30 * 6
	if got.Sent != want || got.Samples != want || got.Requests != 60 || got.Lost != 0 || got.Mismatched != 0 || got.Duplicates != 0 {
		t.Errorf("Resilient() = %+v, want %d samples sent and answered once in 60 responses, none lost, mismatched or duplicated", got, want)
	}
	// Every stream answers 5 then fails, so 30 requests take at least 6
	// streams per logical stream, each failure leaving requests to re-send.
	if got.Reconnects < 2*5 || got.Resent == 0 || srv.streams.Load() != 2+got.Reconnects {
		t.Errorf("Resilient() reconnects %d, resent %d, server saw %d streams; want >= 10 reconnects, some resent, streams = 2 + reconnects", got.Reconnects, got.Resent, srv.streams.Load())
	}
	if len(got.Latencies) != 60 {
		t.Errorf("Resilient() recorded %d latencies, want 60", len(got.Latencies))
	}
}

func TestResilientCountsDuplicatesOnce(t *testing.T) {
	c := newClient(t, client.Config{}, &flakyEcho{dup: true})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := Resilient(ctx, c, newTestWorkload(t, 4).Split(1), resilientConfig(1, 10))
	if err != nil {
		t.Fatalf("Resilient() = %v", err)
	}
	if got.Samples != 60 || got.Requests != 10 || got.Duplicates < 9 || got.Mismatched != 0 || got.Lost != 0 {
		t.Errorf("Resilient() = %+v, want 60 samples in 10 responses, 9 or 10 duplicates, none mismatched or lost", got)
	}
	// The last duplicate may follow the last answer after Resilient returned.
	for c.Stats().Duplicates < 10 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	if d := c.Stats().Duplicates; d != 10 {
		t.Errorf("client dropped %d duplicates, want 10", d)
	}
}

func TestResilientGivesUp(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		reconnect int64
	}{
		{"not retryable", status.Error(codes.InvalidArgument, "bad"), 0},
		{"attempts used up", status.Error(codes.Unavailable, "down"), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No answer at all, so reconnects never reset the attempt count.
			c := newClient(t, client.Config{MaxAttempts: 3}, &flakyEcho{answer: 0, unanswered: 2, failWith: tt.err})
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			got, err := Resilient(ctx, c, newTestWorkload(t, 4).Split(1), resilientConfig(1, 10))
			if status.Code(err) != status.Code(tt.err) {
				t.Errorf("Resilient() error = %v, want code %v", err, status.Code(tt.err))
			}
			if got.Reconnects != tt.reconnect || got.Samples != 0 || got.Lost == 0 || got.Lost != got.Sent {
				t.Errorf("Resilient() = %+v, want %d reconnects, nothing answered, every sent sample lost", got, tt.reconnect)
			}
		})
	}
}

func TestResilientPacedRun(t *testing.T) {
	c := newClient(t, client.Config{}, Echo{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cfg := resilientConfig(3, 20)
	cfg.Rate = 1e6 // high enough not to slow the test, still through the pacer
	got, err := Resilient(ctx, c, newTestWorkload(t, 9).Split(3), cfg)
	if err != nil {
		t.Fatalf("Resilient() = %v", err)
	}
	if got.Samples != 3*20*6 || got.Lost != 0 || got.Reconnects != 0 || got.Resent != 0 {
		t.Errorf("Resilient() = %+v, want 360 samples, none lost, no reconnects", got)
	}
}

func TestResilientConfigErrors(t *testing.T) {
	c := newClient(t, client.Config{}, Echo{})
	w := newTestWorkload(t, 4)
	if _, err := Resilient(t.Context(), c, w.Split(1), ResilientConfig{}); err == nil {
		t.Errorf("Resilient(no limit) = nil error, want one")
	}
	if _, err := Resilient(t.Context(), c, w.Split(2), resilientConfig(1, 1)); err == nil {
		t.Errorf("Resilient(2 feeds, 1 stream) = nil error, want one")
	}
}

// listen serves svc on a loopback port; stop ends it early, and is also
// called at the end of the test.
func listen(t *testing.T, svc astraguardv1.DetectorServiceServer) (addr string, stop func()) {
	t.Helper()
	srv := grpc.NewServer()
	astraguardv1.RegisterDetectorServiceServer(srv, svc)
	return testkit.ServeLoopback(t, srv)
}
