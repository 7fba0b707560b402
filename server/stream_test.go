package server

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// recvAll reads responses until the stream ends and returns their request
// ids and the final error (nil after a clean end).
func recvAll(t *testing.T, stream astraguardv1.DetectorService_DetectClient) ([]string, error) {
	t.Helper()
	var ids []string
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return ids, nil
		}
		if err != nil {
			return ids, err
		}
		ids = append(ids, resp.GetRequestId())
	}
}

func wantLimit(t *testing.T, err error, message string) {
	t.Helper()
	if st := status.Convert(err); st.Code() != codes.ResourceExhausted || st.Message() != message {
		t.Errorf("error = %v %q, want ResourceExhausted %q", st.Code(), st.Message(), message)
	}
}

func rejections(t *testing.T, e *tcpEnv, label string) float64 {
	t.Helper()
	c := e.srv.detect.metrics.rejections[labelName(label)]
	if c == nil {
		t.Fatalf("no rejection counter for %q", label)
	}
	return testutil.ToFloat64(c)
}

// labelName finds the Limit* name of a metric label.
func labelName(label string) string {
	for name, l := range limitLabels {
		if l == label {
			return name
		}
	}
	return ""
}

// TestStreamLimitEndsAfterEarlierAnswers sends good requests, then one
// that breaks a limit, then more: the good ones are answered in order, the
// stream ends with the limit named, and nothing after it is scored.
func TestStreamLimitEndsAfterEarlierAnswers(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		bad     *astraguardv1.DetectRequest
		label   string
		message string
	}{
		{"samples per request", Config{MaxSamplesPerRequest: 3},
			&astraguardv1.DetectRequest{RequestId: "bad", Series: []*astraguardv1.SeriesSamples{series("a", 4)}},
			"samples_per_request", `request "bad": limit exceeded: samples per request: 4 > 3`},
		{"series per stream", Config{MaxSeriesPerStream: 3},
			&astraguardv1.DetectRequest{RequestId: "bad", Frames: []*astraguardv1.Frame{{Source: "sat1", Channels: []*astraguardv1.Channel{
				{Name: "a"}, {Name: "b"}, {Name: ""}, // only "sat1/b" is new; an unnamed channel takes no slot
			}}}},
			"series_per_stream", `request "bad": limit exceeded: series per stream: 4 > 3`},
		{"long request id", Config{MaxSamplesPerRequest: 3}, // the id is cut in the status and logs
			&astraguardv1.DetectRequest{RequestId: strings.Repeat("x", 10_000), Series: []*astraguardv1.SeriesSamples{series("a", 4)}},
			"samples_per_request", `request "` + strings.Repeat("x", 64) + `"...: limit exceeded: samples per request: 4 > 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTCPEnv(t, tt.cfg, tcpOptions{})
			c, _ := e.client(t)
			stream, err := c.Detect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			good := []*astraguardv1.DetectRequest{
				{RequestId: "g1", Series: []*astraguardv1.SeriesSamples{series("a", 1), series("b", 2)}},
				{RequestId: "g2", Series: []*astraguardv1.SeriesSamples{series("a", 1), series("sat1/a", 1)}}, // 3 distinct series so far
			}
			for _, r := range append(good, tt.bad, &astraguardv1.DetectRequest{RequestId: "after", Series: []*astraguardv1.SeriesSamples{series("a", 1)}}) {
				if err := stream.Send(r); err != nil && !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
			}
			ids, err := recvAll(t, stream)
			if strings.Join(ids, ",") != "g1,g2" {
				t.Errorf("answered %q, want g1,g2", ids)
			}
			wantLimit(t, err, tt.message)
			if got := rejections(t, e, tt.label); got != 1 {
				t.Errorf("rejections{limit=%q} = %v, want 1", tt.label, got)
			}
		})
	}
}

func TestQuoteRequestID(t *testing.T) {
	tests := []struct{ id, want string }{
		{"", `""`},
		{"r7", `"r7"`},
		{strings.Repeat("x", 64), `"` + strings.Repeat("x", 64) + `"`},
		{strings.Repeat("x", 65), `"` + strings.Repeat("x", 64) + `"...`},
		{"x" + strings.Repeat("é", 40), `"x` + strings.Repeat("é", 31) + `"...`}, // cut before a split é
	}
	for _, tt := range tests {
		if got := quoteRequestID(tt.id); got != tt.want {
			t.Errorf("quoteRequestID(%.20q) = %s, want %s", tt.id, got, tt.want)
		}
	}
}

// TestStallTimerAfterSendKeepsStream fires the send timer just after a
// Send has completed, before the answerer stops it: the handler must see
// that no Send is stuck and let the stream finish normally.
func TestStallTimerAfterSendKeepsStream(t *testing.T) {
	var fired atomic.Bool
	e := newTCPEnv(t, Config{}, tcpOptions{watchEnded: true, hooks: func(h *streamHooks) {
		h.sent = func(stall *time.Timer) {
			if fired.Swap(true) {
				return // once: a handler that gave up would take no more ticks
			}
			// Fire the timer and wait until the handler, which waits for
			// this answerer, has taken the tick: Stop reports false only
			// once it has been received.
			for stall.Reset(0); stall.Stop(); stall.Reset(0) {
				runtime.Gosched()
			}
		}
	}})
	c, _ := e.client(t)
	stream, err := c.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2"} {
		if err := stream.Send(&astraguardv1.DetectRequest{RequestId: id, Series: []*astraguardv1.SeriesSamples{series("a", 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	ids, err := recvAll(t, stream)
	if err != nil || strings.Join(ids, ",") != "1,2" {
		t.Errorf("answered %q, error %v; want 1,2 and a clean end", ids, err)
	}
	if err := <-e.ended; err != nil {
		t.Errorf("handler error = %v, want nil", err)
	}
}

func TestDetectStreamsLimit(t *testing.T) {
	e := newTCPEnv(t, Config{MaxDetectStreams: 1}, tcpOptions{})
	c, _ := e.client(t)
	first, err := c.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// A round trip proves the first stream's handler is running.
	if err := first.Send(&astraguardv1.DetectRequest{RequestId: "1", Series: []*astraguardv1.SeriesSamples{series("a", 1)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Recv(); err != nil {
		t.Fatal(err)
	}
	second, err := c.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = second.Recv()
	wantLimit(t, err, "limit exceeded: open Detect streams: 2 > 1")

	if err := first.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := recvAll(t, first); err != nil {
		t.Fatal(err)
	}
	// The first handler frees its slot before its status reaches us, so a
	// third stream fits now.
	third, err := c.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := third.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := recvAll(t, third); err != nil {
		t.Errorf("third stream after the first ended: %v", err)
	}
}

func TestMessageSizeLimit(t *testing.T) {
	e := newTCPEnv(t, Config{MaxRecvMsgBytes: 1024}, tcpOptions{watchEnded: true})
	c, _ := e.client(t)
	stream, err := c.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&astraguardv1.DetectRequest{RequestId: "big", Series: []*astraguardv1.SeriesSamples{series("a", 200)}}); err != nil {
		t.Fatal(err)
	}
	_, err = recvAll(t, stream)
	// gRPC itself answers an oversized message, before the handler sees it.
	if st := status.Convert(err); st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "received message larger than max (") {
		t.Errorf("oversized request: %v %q, want ResourceExhausted naming the message size", st.Code(), st.Message())
	}
	<-e.ended // gRPC answers before the handler counts the refusal
	if got := rejections(t, e, "message_size"); got != 1 {
		t.Errorf("rejections{limit=message_size} = %v, want 1", got)
	}
}

// TestSlowReaderBoundedThenEnds is a client that sends without reading.
// The server must hold a bounded number of its requests (the queue plus
// one being read and one being answered), however many it sends, and end
// the stream with a clear error once Send has been blocked for
// SendTimeout. Small windows make the client's flow control bite early.
func TestSlowReaderBoundedThenEnds(t *testing.T) {
	const depth = 2
	e := newTCPEnv(t, Config{QueueDepth: depth, SendTimeout: 50 * time.Millisecond}, tcpOptions{watchEnded: true})
	c, _ := e.client(t, grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	stream, err := c.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const total = 200 // each answer is ~60 KB: far more than the windows hold
	sent := make(chan int, 1)
	go func() {
		n := 0
		for ; n < total; n++ {
			req := &astraguardv1.DetectRequest{RequestId: "r", Series: []*astraguardv1.SeriesSamples{series("a", 2000)}}
			if stream.Send(req) != nil {
				break // the server ended the stream
			}
		}
		sent <- n
	}()
	err = <-e.ended
	wantLimit(t, err, "limit exceeded: send timeout: client not reading responses for 50ms")
	if got := e.maxInFlight(); got > depth+2 {
		t.Errorf("server held %d requests of one stream at once, want <= %d", got, depth+2)
	}
	// Reading now drains what the transport buffered, then the status.
	ids, err := recvAll(t, stream)
	wantLimit(t, err, "limit exceeded: send timeout: client not reading responses for 50ms")
	if n := <-sent; len(ids) >= n {
		t.Errorf("client sent %d requests and got %d answers; want the stream ended before answering all", n, len(ids))
	}
	if got := rejections(t, e, "send_timeout"); got != 1 {
		t.Errorf("rejections{limit=send_timeout} = %v, want 1", got)
	}
}

func TestLimitMetricsRegistered(t *testing.T) {
	e := newTCPEnv(t, Config{}, tcpOptions{})
	n, err := testutil.GatherAndCount(e.reg, "astraguard_limit_rejections_total")
	if err != nil || n != len(limitLabels) {
		t.Errorf("astraguard_limit_rejections_total has %d series (%v), want one per limit, %d", n, err, len(limitLabels))
	}
	problems, err := testutil.GatherAndLint(e.reg, "astraguard_limit_rejections_total")
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
