package connlimit_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/internal/connlimit/connlimittest"
)

// TestDrainIdle: with both places of a listener taken by idle keep-alive
// connections of two clients, a third client is served: the connection
// idle longest gave way, and the other is kept.
func TestDrainIdle(t *testing.T) {
	l, err := connlimit.New(connlimit.Config{Max: 2, PerClient: 1})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis := l.Wrap(raw, "http")
	hs := &http.Server{
		Handler:     http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }),
		IdleTimeout: time.Hour,
	}
	// The test's own hook, called by DrainIdle's: it tells when a
	// connection has turned idle, so the first client is idle on the
	// server before the second fills the listener.
	idle := make(chan struct{}, 8)
	hs.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateIdle {
			idle <- struct{}{}
		}
	}
	connlimit.DrainIdle(hs, lis)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(lis) }()
	defer func() {
		_ = hs.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve() = %v", err)
		}
	}()
	first := connlimittest.KeepAlive(t, "127.0.0.2", raw.Addr().String(), "/", 1)
	<-idle
	second := connlimittest.KeepAlive(t, "127.0.0.3", raw.Addr().String(), "/", 1)
	if len(first.Conns) != 1 || len(second.Conns) != 1 {
		t.Fatalf("keep-alive connections held: %d and %d, want 1 each", len(first.Conns), len(second.Conns))
	}
	connlimittest.Closed(t, first.Conns[0]) // filling the listener closed the one idle longest
	third := connlimittest.KeepAlive(t, "127.0.0.4", raw.Addr().String(), "/", 1)
	if len(third.Conns) != 1 {
		t.Errorf("a third client was refused, want it served")
	}
}
