package connlimittest

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Transport is what a gRPC server's HTTP/2 transport showed a bare client.
type Transport struct {
	Settings map[http2.SettingID]uint32 // the server's first SETTINGS frame
	// Pinged: the server sent a ping of its own after a stream's data and
	// before it acknowledged the client's, which is gRPC sizing the window
	// from the bandwidth-delay product (growing it towards 16 MiB).
	Pinged bool
}

// Probe opens a bare HTTP/2 connection to the gRPC listener at addr,
// starts a call to path and sends the start of a 60,000-byte message (data
// within any window), then a ping, and reads until the ping is
// acknowledged. The call is reset and the connection closed before it
// returns. The message never completes, so no handler runs.
func Probe(t testing.TB, addr, path string) Transport {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(bound))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", path},
		{":authority", "localhost"}, {"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteData(1, false, append([]byte{0, 0, 0, 0xea, 0x60}, make([]byte, 16000)...)); err != nil {
		t.Fatal(err)
	}
	mine := [8]byte{'p', 'r', 'o', 'b', 'e'}
	if err := fr.WritePing(false, mine); err != nil {
		t.Fatal(err)
	}
	var got Transport
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("connection ended before the ping's ack: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && got.Settings == nil {
				got.Settings = map[http2.SettingID]uint32{}
				_ = f.ForeachSetting(func(s http2.Setting) error { got.Settings[s.ID] = s.Val; return nil })
				if err := fr.WriteSettingsAck(); err != nil {
					t.Fatal(err)
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				got.Pinged = true
				continue
			}
			if f.Data == mine {
				_ = fr.WriteRSTStream(1, http2.ErrCodeCancel)
				return got
			}
		}
	}
}
