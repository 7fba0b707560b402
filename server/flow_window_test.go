package server

import (
	"testing"

	"golang.org/x/net/http2"

	"github.com/astraguard/astraguard/internal/connlimit/connlimittest"
)

// TestStreamWindowIsFixed: every stream's HTTP/2 receive window is
// StreamWindowBytes, advertised in the server's settings, and never grown.
// gRPC's default grows a busy stream's window towards 16 MiB from
// bandwidth-delay pings, and the window is what the transport buffers for
// a stream its handler has not read: 80 Detect streams whose client sent
// large requests and never read a response held 512 MB of received frames
// outside --max-queued-bytes (256 MiB), and 150 ran the server out of
// memory. The growth starts with a ping the server sends after a stream's
// first data, before it answers any ping that came after that data; with
// a fixed window no such ping is sent.
func TestStreamWindowIsFixed(t *testing.T) {
	e := newTCPEnv(t, Config{}, tcpOptions{watchEnded: true})
	got := connlimittest.Probe(t, e.addr, "/astraguard.v1.DetectorService/Detect")
	if got.Pinged {
		t.Error("the server pinged after a stream's data: it is sizing the window from the bandwidth-delay product")
	}
	if window, ok := got.Settings[http2.SettingInitialWindowSize]; !ok || window != StreamWindowBytes {
		t.Errorf("advertised stream window %d (set: %v), want StreamWindowBytes %d", window, ok, StreamWindowBytes)
	}
	// Probe reset the stream: wait for its handler, so none runs past the test.
	<-e.ended
}
