package server

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
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
	r := dialRaw(t, e.addr)

	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", "/astraguard.v1.DetectorService/Detect"},
		{":authority", "localhost"}, {"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	// The start of a 60,000-byte message: data, but within any window.
	if err := r.fr.WriteData(1, false, append([]byte{0, 0, 0, 0xea, 0x60}, make([]byte, 16000)...)); err != nil {
		t.Fatal(err)
	}
	mine := [8]byte{'w', 'i', 'n', 'd', 'o', 'w'}
	if err := r.fr.WritePing(false, mine); err != nil {
		t.Fatal(err)
	}
	window, sawSettings := uint32(0), false
	f := r.until(t, func(f http2.Frame) bool {
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				window, sawSettings = 0, true
				if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
					window = v
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				t.Errorf("the server pinged (%x) after a stream's data: it is sizing the window from the bandwidth-delay product", f.Data)
			}
			return f.IsAck() && f.Data == mine
		}
		return false
	})
	if f == nil {
		t.Fatal("connection ended before the ping's ack")
	}
	if !sawSettings || window != StreamWindowBytes {
		t.Errorf("advertised stream window %d (settings seen: %v), want StreamWindowBytes %d", window, sawSettings, StreamWindowBytes)
	}
	// End the stream and wait for its handler, so none runs past the test.
	if err := r.fr.WriteRSTStream(1, http2.ErrCodeCancel); err != nil {
		t.Fatal(err)
	}
	<-e.ended
}
