package loadtest

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
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
		vs, _ := echoVerdicts(nil, nil, req.GetSeries(), req.GetFrames())
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
		Backoff:          time.Millisecond,
	}
}

func TestResilientResendsUnanswered(t *testing.T) {
	srv := &flakyEcho{answer: 5, unanswered: 2, failWith: status.Error(codes.Unavailable, "going away")}
	c := serve(t, srv)
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
	c := serve(t, &flakyEcho{dup: true})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := Resilient(ctx, c, newTestWorkload(t, 4).Split(1), resilientConfig(1, 10))
	if err != nil {
		t.Fatalf("Resilient() = %v", err)
	}
	if got.Samples != 60 || got.Requests != 10 || got.Duplicates != 10 || got.Mismatched != 0 || got.Lost != 0 {
		t.Errorf("Resilient() = %+v, want 60 samples in 10 responses, 10 duplicates, none mismatched or lost", got)
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
			c := serve(t, &flakyEcho{answer: 0, unanswered: 2, failWith: tt.err})
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cfg := resilientConfig(1, 10)
			cfg.MaxAttempts = 3
			got, err := Resilient(ctx, c, newTestWorkload(t, 4).Split(1), cfg)
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
	c := serve(t, Echo{})
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
	c := serve(t, Echo{})
	w := newTestWorkload(t, 4)
	if _, err := Resilient(t.Context(), c, w.Split(1), ResilientConfig{}); err == nil {
		t.Errorf("Resilient(no limit) = nil error, want one")
	}
	if _, err := Resilient(t.Context(), c, w.Split(2), resilientConfig(1, 1)); err == nil {
		t.Errorf("Resilient(2 feeds, 1 stream) = nil error, want one")
	}
}

// countingEcho is Echo that counts its Detect streams.
type countingEcho struct {
	Echo
	streams atomic.Int64
}

func (e *countingEcho) Detect(stream astraguardv1.DetectorService_DetectServer) error {
	e.streams.Add(1)
	return e.Echo.Detect(stream)
}

// listen serves svc on a loopback port; stop ends it early, and is also
// called at the end of the test.
func listen(t *testing.T, svc astraguardv1.DetectorServiceServer) (addr string, stop func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen() = %v", err)
	}
	srv := grpc.NewServer()
	astraguardv1.RegisterDetectorServiceServer(srv, svc)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	var once sync.Once
	stop = func() { once.Do(func() { srv.Stop(); <-done }) }
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

// TestNewClientFailsOver is the scale-out path in one process: streams
// spread over two servers, one stops mid-run, its streams move to the
// other and re-send what it left unanswered.
func TestNewClientFailsOver(t *testing.T) {
	var a, b countingEcho
	addrA, _ := listen(t, &a)
	addrB, stopB := listen(t, &b)
	cc, err := NewClient([]string{addrA, addrB})
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	defer cc.Close()
	c := astraguardv1.NewDetectorServiceClient(cc)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	// Warm both connections up so round_robin has both ready before the run.
	for a.streams.Load() == 0 || b.streams.Load() == 0 {
		if _, err := Resilient(ctx, c, newTestWorkload(t, 4).Split(1), resilientConfig(1, 1)); err != nil {
			t.Fatalf("warm-up Resilient() = %v", err)
		}
	}
	warmA, warmB := a.streams.Load(), b.streams.Load()
	const streams, requests = 4, 400
	cfg := resilientConfig(streams, requests)
	cfg.Rate = 4 * 6 * 1000 // 1000 requests/s per stream: the run lasts about 0.4s
	done := make(chan struct{})
	var got Result
	go func() {
		defer close(done)
		got, err = Resilient(ctx, c, newTestWorkload(t, 40).Split(streams), cfg)
	}()
	// Pacing makes the run last 0.4s or more, so B stops mid-run once its
	// first stream started; the reconnect count below checks that it did.
	for b.streams.Load() == warmB && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	stopB()
	<-done
	if err != nil {
		t.Fatalf("Resilient() = %v", err)
	}
	const want = streams * requests * 6
	if got.Sent != want || got.Samples != want || got.Lost != 0 || got.Duplicates != 0 || got.Mismatched != 0 {
		t.Errorf("Resilient() = sent %d, answered %d, lost %d, duplicates %d, mismatched %d; want %d answered once, none lost", got.Sent, got.Samples, got.Lost, got.Duplicates, got.Mismatched, want)
	}
	onB := b.streams.Load() - warmB
	t.Logf("B had %d streams; %d reconnects, %d samples re-sent", onB, got.Reconnects, got.Resent)
	if onB == 0 || got.Reconnects < onB || a.streams.Load()-warmA < streams {
		t.Errorf("streams: %d started on B, %d reconnects, %d ended up on A; want some on B, each reconnected, all %d on A at the end", onB, got.Reconnects, a.streams.Load()-warmA, streams)
	}
}
