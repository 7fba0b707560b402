package httpserver

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestHeadersBounded: a request whose headers pass MaxHeaderBytes gets 431
// (Go's default would have read up to 1 MiB), a smaller one is served.
func TestHeadersBounded(t *testing.T) {
	srv := New(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), log.New(io.Discard, "", 0))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	defer func() {
		// Shutdown, unlike Close, waits for the refused request's
		// connection goroutine, which lingers to flush the 431.
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("Serve() = %v", err)
		}
	}()
	get := func(headerBytes int) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+lis.Addr().String()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Padding", strings.Repeat("a", headerBytes))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	if code := get(MaxHeaderBytes / 2); code != http.StatusOK {
		t.Errorf("GET with %d header bytes = %d, want 200", MaxHeaderBytes/2, code)
	}
	if code := get(2 * MaxHeaderBytes); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("GET with %d header bytes = %d, want 431", 2*MaxHeaderBytes, code)
	}
	http.DefaultClient.CloseIdleConnections()
}
