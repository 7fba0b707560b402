package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/net/http2"
	"google.golang.org/grpc/metadata"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/connlimit"
)

// rawConn is a bare HTTP/2 client connection to the server: it sends
// pings by hand and reads what the server sends back.
type rawConn struct {
	c  net.Conn
	fr *http2.Framer
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	// Bounds a broken test; not a timing assertion.
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return &rawConn{c: c, fr: fr}
}

// until reads frames, acknowledging the server's settings, until want
// returns true for one (it returns that frame) or the connection ends
// (nil).
func (r *rawConn) until(t *testing.T, want func(http2.Frame) bool) http2.Frame {
	t.Helper()
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("no frame the test waits for within 20s")
			}
			return nil // reset by the server
		}
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			if err := r.fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
		}
		if want(f) {
			return f
		}
	}
}

func isGoAway(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok }

// TestClientPingsAtMinTimeAreAccepted: a client may ping as often as
// KeepaliveMinTime (gRPC's server default, 5 minutes, would disconnect
// every client that turns keepalive on), and one pinging faster is
// disconnected with too_many_pings.
func TestClientPingsAtMinTimeAreAccepted(t *testing.T) {
	const minTime = connlimit.MinKeepalive // the shortest Validate accepts
	e := newTCPEnv(t, Config{KeepaliveMinTime: minTime}, tcpOptions{})

	polite := dialRaw(t, e.addr)
	for i := range 3 { // gRPC refuses the third ping too early: it sends its ack, then GOAWAY
		data := [8]byte{byte(i)}
		if err := polite.fr.WritePing(false, data); err != nil {
			t.Fatal(err)
		}
		ack := polite.until(t, func(f http2.Frame) bool {
			p, ok := f.(*http2.PingFrame)
			return ok && p.IsAck() && p.Data == data || isGoAway(f)
		})
		if ack == nil || isGoAway(ack) {
			t.Fatalf("ping %d, %v after the last: %v, want its ack", i, 2*minTime, ack)
		}
		time.Sleep(2 * minTime)
	}

	flood := dialRaw(t, e.addr)
	for i := range 10 {
		if err := flood.fr.WritePing(false, [8]byte{byte(i)}); err != nil {
			break // the server may already have closed
		}
	}
	f := flood.until(t, isGoAway)
	if g, ok := f.(*http2.GoAwayFrame); !ok || g.ErrCode != http2.ErrCodeEnhanceYourCalm || !bytes.Contains(g.DebugData(), []byte("too_many_pings")) {
		t.Errorf("10 pings at once: %v, want GOAWAY ENHANCE_YOUR_CALM too_many_pings", f)
	}
}

// TestSilentClientIsDisconnected: the server pings a connection that went
// quiet for KeepaliveTime and closes it when the ping is not answered
// within KeepaliveTimeout, so a vanished client's streams end.
func TestSilentClientIsDisconnected(t *testing.T) {
	e := newTCPEnv(t, Config{KeepaliveTime: time.Second, KeepaliveTimeout: time.Second}, tcpOptions{})
	r := dialRaw(t, e.addr)
	ping := r.until(t, func(f http2.Frame) bool { p, ok := f.(*http2.PingFrame); return ok && !p.IsAck() })
	if ping == nil {
		t.Fatal("connection closed before the server pinged")
	}
	// Never answer: the server must give up on the connection.
	if f := r.until(t, func(http2.Frame) bool { return false }); f != nil {
		t.Fatalf("unexpected frame %v", f)
	}
}

// TestRequestMetadataBounded: metadata beyond MaxHeaderListBytes fails the
// call (gRPC's own limit, 16 MiB, would have taken it), metadata within it
// passes, and the connection serves on.
func TestRequestMetadataBounded(t *testing.T) {
	e := newTCPEnv(t, Config{}, tcpOptions{})
	c, _ := e.client(t)
	req := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{series("sat1/voltage", 2)}}
	call := func(valueBytes int) error {
		ctx := metadata.AppendToOutgoingContext(t.Context(), "x-padding", strings.Repeat("a", valueBytes))
		_, err := c.DetectBatch(ctx, req)
		return err
	}
	if err := call(defaults.MaxHeaderListBytes / 2); err != nil {
		t.Errorf("DetectBatch with %d bytes of metadata = %v, want it served", defaults.MaxHeaderListBytes/2, err)
	}
	if err := call(2 * defaults.MaxHeaderListBytes); err == nil {
		t.Errorf("DetectBatch with %d bytes of metadata served, want it refused", 2*defaults.MaxHeaderListBytes)
	}
	if err := call(0); err != nil {
		t.Errorf("DetectBatch after the refused call = %v, want it served", err)
	}
}

// TestConnectionsBounded: a listener holds at most MaxConnections open; the
// others wait unaccepted instead of each taking the server's memory, and
// are served once earlier ones close. (All come from 127.0.0.1, so the
// client's share is the whole limit here; cmd/astraguard tests the share.)
func TestConnectionsBounded(t *testing.T) {
	const limit = 2
	e := newTCPEnv(t, Config{MaxConnections: limit, MaxConnectionsPerClient: limit}, tcpOptions{})
	open := func() float64 {
		return testutil.ToFloat64(e.srv.conns.Open("grpc"))
	}
	var raws []*rawConn
	for range 5 {
		raws = append(raws, dialRaw(t, e.addr))
	}
	// The first two are accepted: their settings arrive.
	for _, r := range raws[:limit] {
		if f := r.until(t, func(f http2.Frame) bool { _, ok := f.(*http2.SettingsFrame); return ok }); f == nil {
			t.Fatal("an accepted connection was closed")
		}
	}
	if got := open(); got != limit {
		t.Errorf("astraguard_open_connections = %v with 5 dialled, want %d", got, limit)
	}
	for _, r := range raws {
		_ = r.c.Close()
	}
	c, _ := e.client(t)
	if _, err := c.DetectBatch(t.Context(), &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{series("s", 1)}}); err != nil {
		t.Errorf("DetectBatch after the raw connections closed = %v, want it served", err)
	}
	if got := open(); got > limit {
		t.Errorf("astraguard_open_connections = %v, want at most %d", got, limit)
	}
}
