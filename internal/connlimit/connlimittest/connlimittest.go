// Package connlimittest plays the client that holds connections to a
// server's listener, for the tests of both binaries: it opens them from a
// loopback address of its own (127.0.0.2, ...), so the client under test
// on 127.0.0.1 is another client to the server. Imported by tests only.
package connlimittest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// bound ends a read a broken server never answers; not a timing assertion.
const bound = 30 * time.Second

// Held is what a hog got: the connections the server accepted, still
// open, and how many it closed at once.
type Held struct {
	Conns   []net.Conn
	Refused int
}

// Idle opens n connections from the loopback address from to a gRPC
// listener at addr, one after another, and sends nothing on them: each is
// accepted (the server's HTTP/2 settings arrive) or refused (closed before
// a byte). They are closed when the test ends.
func Idle(t testing.TB, from, addr string, n int) Held {
	t.Helper()
	return hold(t, from, addr, n, func(c net.Conn) error {
		_, err := c.Read(make([]byte, 1))
		return err
	})
}

// KeepAlive opens n connections from from to an HTTP listener at addr,
// one after another, sends GET path on each and keeps the connections the
// server answered open and idle, as a keep-alive client pool does.
func KeepAlive(t testing.TB, from, addr, path string, n int) Held {
	t.Helper()
	return hold(t, from, addr, n, func(c net.Conn) error {
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	})
}

func hold(t testing.TB, from, addr string, n int, greet func(net.Conn) error) Held {
	t.Helper()
	var h Held
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %s from %s: %v", addr, from, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetDeadline(time.Now().Add(bound))
		err = greet(c)
		var ne net.Error
		switch {
		case err == nil:
			_ = c.SetDeadline(time.Time{})
			h.Conns = append(h.Conns, c)
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatalf("connection from %s to %s: no answer and not closed within %v", from, addr, bound)
		default: // EOF or reset: closed by the server
			h.Refused++
			_ = c.Close()
		}
	}
	return h
}

// Closed waits until the server closes c and returns how long that took,
// failing the test if it is still open after 30s.
func Closed(t testing.TB, c net.Conn) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(bound))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", bound)
	}
	return time.Since(start)
}

// HTTP2Idle opens n connections from from to a gRPC listener at addr, one
// after another, completes each one's HTTP/2 setup (client preface and
// settings, the server's settings acknowledged), as a gRPC client that
// made its calls does, and then sends nothing more: each is accepted or
// refused (closed before the server's settings arrive). They are closed
// when the test ends.
func HTTP2Idle(t testing.TB, from, addr string, n int) Held {
	t.Helper()
	return hold(t, from, addr, n, func(c net.Conn) error {
		if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
			return err
		}
		fr := http2.NewFramer(c, c)
		if err := fr.WriteSettings(); err != nil {
			return err
		}
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return err
			}
			if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
				return fr.WriteSettingsAck()
			}
		}
	})
}

// GoAway reads c, a connection HTTP2Idle set up, answering the server's
// pings, until the server closes it, and returns the debug data of the
// first GOAWAY it sent; the test fails if c closes without a GOAWAY, or
// is still open after 30s.
func GoAway(t testing.TB, c net.Conn) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(bound))
	fr := http2.NewFramer(c, c)
	var debug *string
	for {
		f, err := fr.ReadFrame()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatalf("connection still open after %v (GOAWAY received: %v)", bound, debug != nil)
		case err != nil && debug == nil:
			t.Fatalf("connection ended without GOAWAY: %v", err)
		case err != nil:
			return *debug
		}
		switch f := f.(type) {
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = fr.WritePing(true, f.Data)
			}
		case *http2.GoAwayFrame:
			if debug == nil {
				d := string(f.DebugData())
				debug = &d
			}
		}
	}
}
