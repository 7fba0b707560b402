package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// stillServes checks that a well-behaved client gets answers.
func stillServes(t *testing.T, e *tcpEnv) {
	t.Helper()
	c, _ := e.client(t)
	resp, err := c.DetectBatch(t.Context(), &astraguardv1.DetectBatchRequest{RequestId: "ok", Series: []*astraguardv1.SeriesSamples{series("s", 2)}})
	if err != nil || len(resp.GetVerdicts()) != 2 {
		t.Fatalf("DetectBatch() after a bad peer = %v, %v; want 2 verdicts", resp, err)
	}
}

// rawExchange writes payload on a fresh TCP connection and reads until the
// server closes it. The deadline only keeps a broken server from hanging
// the test; a pass never comes near it.
func rawExchange(t *testing.T, addr string, payload []byte) []byte {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(payload); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server kept a bad connection open: %v", err)
	}
	return got // a reset instead of a clean close is fine too
}

func TestGarbageBytesDropOnlyThatConnection(t *testing.T) {
	e := newTCPEnv(t, Config{}, tcpOptions{})
	payloads := map[string][]byte{
		"random":          bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0xff}, 1000),
		"short preface":   []byte("PRI * HTTP/2.0\r\n"),
		"preface+garbage": append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), bytes.Repeat([]byte{0xff}, 64)...),
		"tls hello":       append([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}, make([]byte, 64)...),
	}
	for name, p := range payloads {
		t.Run(name, func(t *testing.T) {
			if name == "short preface" {
				// A peer that stops mid-preface: closing our side must end
				// the server's read rather than leave it waiting.
				conn, err := net.Dial("tcp", e.addr)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.Write(p); err != nil {
					t.Fatal(err)
				}
				conn.Close()
			} else {
				rawExchange(t, e.addr, p)
			}
			stillServes(t, e)
		})
	}
}

// TestStalledHandshakeIsDropped is a peer that connects, sends part of
// the HTTP/2 preface and waits: the server closes it after HandshakeTimeout.
func TestStalledHandshakeIsDropped(t *testing.T) {
	e := newTCPEnv(t, Config{HandshakeTimeout: 50 * time.Millisecond}, tcpOptions{})
	rawExchange(t, e.addr, []byte("PRI * HTTP/2.0\r\n"))
	stillServes(t, e)
}

func TestHTTP1OnGRPCPort(t *testing.T) {
	e := newTCPEnv(t, Config{}, tcpOptions{})
	// Raw, so the answer is whatever the server writes, then a close.
	rawExchange(t, e.addr, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	// Through an HTTP/1 client: an error or an HTTP error status, never a 200.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+e.addr+"/astraguard.v1.DetectorService/DetectBatch", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("HTTP/1 POST on the gRPC port = %s, want an error", resp.Status)
		}
	}
	stillServes(t, e)
}

// TestHalfClosedStreamAnswersEverything sends part of a batch of requests,
// closes its side and reads: every request sent is answered, then EOF.
func TestHalfClosedStreamAnswersEverything(t *testing.T) {
	e := newTCPEnv(t, Config{QueueDepth: 1}, tcpOptions{})
	c, _ := e.client(t)
	stream, err := c.Detect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 20 { // more than the queue holds, all before reading
		id := fmt.Sprint(i)
		want = append(want, id)
		if err := stream.Send(&astraguardv1.DetectRequest{RequestId: id, Series: []*astraguardv1.SeriesSamples{series("s", 50)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	ids, err := recvAll(t, stream)
	if err != nil {
		t.Fatalf("stream after CloseSend ended with %v, want EOF", err)
	}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("answered %v, want %v", ids, want)
	}
}

// TestAbandonedStreamEndsHandler abandons streams mid-batch without
// reading, by cancelling or by closing the connection: the handler must
// return, and its goroutines end (wait returns; goleak checks the rest).
func TestAbandonedStreamEndsHandler(t *testing.T) {
	for _, how := range []string{"cancel", "close conn"} {
		t.Run(how, func(t *testing.T) {
			e := newTCPEnv(t, Config{}, tcpOptions{watchEnded: true})
			c, conn := e.client(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stream, err := c.Detect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// One round trip, so the server's handler is surely running
			// before the client walks away.
			for i := range 6 {
				if err := stream.Send(&astraguardv1.DetectRequest{RequestId: fmt.Sprint(i), Series: []*astraguardv1.SeriesSamples{series("s", 1000)}}); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					if _, err := stream.Recv(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if how == "cancel" {
				cancel()
			} else {
				conn.Close()
			}
			// Which one depends on whether the handler saw the stream
			// cancelled or the transport closing first.
			if err := <-e.ended; status.Code(err) != codes.Canceled && status.Code(err) != codes.Unavailable {
				t.Errorf("handler ended with %v, want Canceled or Unavailable", err)
			}
			e.srv.detect.wait()
		})
	}
}
