package client

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// hungServer speaks HTTP/2 well enough for a client to open streams on its
// first connection, then never answers anything, pings included: a
// replica that hangs without closing its connections. Later connections
// are closed at once.
type hungServer struct {
	lis   net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startHungServer(t *testing.T) *hungServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hungServer{lis: lis}
	h.wg.Add(1)
	go h.accept()
	t.Cleanup(h.close)
	return h
}

func (h *hungServer) accept() {
	defer h.wg.Done()
	for first := true; ; first = false {
		c, err := h.lis.Accept()
		if err != nil {
			return
		}
		if !first {
			_ = c.Close()
			continue
		}
		h.mu.Lock()
		h.conns = append(h.conns, c)
		h.mu.Unlock()
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.hang(c)
		}()
	}
}

// hang completes the HTTP/2 handshake, then reads and ignores every frame.
func (h *hungServer) hang(c net.Conn) {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	if fr.WriteSettings() != nil {
		return
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			if fr.WriteSettingsAck() != nil {
				return
			}
		}
	}
}

func (h *hungServer) close() {
	_ = h.lis.Close()
	h.mu.Lock()
	for _, c := range h.conns {
		_ = c.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// TestHungReplicaFailsItsStreams: a replica that stops answering without
// closing its connection fails the client's call once a keepalive ping
// goes unanswered, instead of holding it until TCP gives up. It takes
// gRPC's shortest keepalive, 10s.
func TestHungReplicaFailsItsStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a 10s keepalive ping")
	}
	h := startHungServer(t)
	c := newClient(t, []string{h.lis.Addr().String()}, Config{
		KeepaliveTime: 10 * time.Second, KeepaliveTimeout: 200 * time.Millisecond,
		Backoff: time.Millisecond, MaxAttempts: 2,
	})
	// Bounds a broken test: far past the ping and its timeout.
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	_, err := c.Detect(ctx, req("k", 2, 1))
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Detect() on a hung replica = %v, want the stream failed by keepalive", err)
	}
}
