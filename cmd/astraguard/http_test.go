package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPprofTakesTheAdminAuthorization: /debug/pprof on the HTTP port
// answers only a caller that /-/reload would let in: with an admin token,
// only a request carrying it.
func TestPprofTakesTheAdminAuthorization(t *testing.T) {
	addrs := runService(t, "--admin-token-file="+writeTokenFile(t))
	get := func(path, token string) (int, string) { t.Helper(); return bearerGet(t, addrs.HTTP, path, token) }
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline", "/debug/pprof/profile?seconds=1"} {
		for _, token := range []string{"", "not-" + testToken} {
			if code, body := get(path, token); code == http.StatusOK {
				t.Errorf("GET %s with token %q = 200 %.60q, want it refused", path, token, body)
			}
		}
	}
	if code, body := get("/debug/pprof/", testToken); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET /debug/pprof/ with the token = %d %.80q, want the profile index", code, body)
	}
	if code, body := get("/debug/pprof/heap?debug=1", testToken); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("GET /debug/pprof/heap with the token = %d %.80q, want a heap profile", code, body)
	}
	if code, body := get("/debug/pprof/profile?seconds=1", testToken); code != http.StatusOK || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Errorf("GET /debug/pprof/profile with the token = %d, %d bytes, want a gzipped CPU profile", code, len(body))
	}
}

// TestPprofSecondsBounded: the profiler's timed endpoints refuse a
// seconds value beyond a minute, or not a number, with 400 naming the
// bound, at once: Go's handlers would run for as long as asked (or fall
// back to 30s) and hold the process's only CPU profile or trace.
func TestPprofSecondsBounded(t *testing.T) {
	addrs := runService(t, "--admin-token-file="+writeTokenFile(t))
	for _, tc := range []struct{ method, path, form string }{
		{"GET", "/debug/pprof/trace?seconds=100000", ""},
		{"GET", "/debug/pprof/trace?seconds=NaN", ""},
		{"GET", "/debug/pprof/profile?seconds=100000", ""},
		{"GET", "/debug/pprof/profile?seconds=1.5", ""},
		{"GET", "/debug/pprof/profile?seconds=0", ""},
		{"GET", "/debug/pprof/heap?seconds=100000", ""},
		{"GET", "/debug/pprof/block?seconds=61", ""},
		{"POST", "/debug/pprof/profile", "seconds=100000"},
	} {
		// The deadline only keeps a run that ignores the bound from
		// hanging the test; the bound answers at once.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, tc.method, "http://"+addrs.HTTP+tc.path, strings.NewReader(tc.form))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		if tc.form != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s %s %s: %v, want 400 at once", tc.method, tc.path, tc.form, err)
			cancel()
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "60") {
			t.Errorf("%s %s %s = %d %.100q, want 400 naming the bound of 60 seconds", tc.method, tc.path, tc.form, resp.StatusCode, body)
		}
	}
	// The symbol lookup reads its POST body to the end: bounded too.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addrs.HTTP+"/debug/pprof/symbol",
		strings.NewReader(strings.Repeat("0x1+", 2<<20)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if !strings.Contains(string(body), "too large") {
		t.Errorf("POST /debug/pprof/symbol with an 8 MiB body = %d %.100q, want it cut at the body bound", resp.StatusCode, body)
	}
}

// TestAnomalyViewNeedsAdminCredentials: once an admin token is
// configured, the anomaly feed and a series' samples (the clients' series
// ids and values) need it, without --admin-read-auth, while the breaker
// reads stay open as documented.
func TestAnomalyViewNeedsAdminCredentials(t *testing.T) {
	addrs := runService(t, "--admin-token-file="+writeTokenFile(t))
	get := func(path, token string) int {
		t.Helper()
		code, _ := bearerGet(t, addrs.HTTP, path, token)
		return code
	}
	for path, want := range map[string]int{"/api/anomalies": http.StatusUnauthorized,
		"/api/anomalies/context?series=sat1%2Fv": http.StatusUnauthorized, "/api/breakers": http.StatusOK} {
		if got := get(path, ""); got != want {
			t.Errorf("GET %s without the token = %d, want %d", path, got, want)
		}
	}
	if got := get("/api/anomalies", testToken); got != http.StatusOK {
		t.Errorf("GET /api/anomalies with the token = %d, want 200", got)
	}
}

// TestHTTPHeadersBounded: the service's HTTP port refuses headers past
// 64 KiB with 431 (Go's default reads up to 1 MiB).
func TestHTTPHeadersBounded(t *testing.T) {
	ctx := t.Context()
	addrs := runService(t)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addrs.HTTP+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("a", 128<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("GET /healthz with 128 KiB of headers = %d, want 431", resp.StatusCode)
	}
}

// TestHTTPListenerLimited: the HTTP port's connections go through the same
// limit as the gRPC ones; /metrics counts the one reading it.
func TestHTTPListenerLimited(t *testing.T) {
	addrs := runService(t, "--max-connections=5")
	if got := metricLine(t, addrs.HTTP, `astraguard_open_connections{listener="http"}`); got != `astraguard_open_connections{listener="http"} 1` {
		t.Errorf("/metrics has %q, want the reading connection counted", got)
	}
}

// TestBreakerPageStreamsBounded: the breaker page's event streams count
// against the WatchBreakers bound per client (8 by default), so one client
// cannot hold the HTTP port's connections with them.
func TestBreakerPageStreamsBounded(t *testing.T) {
	ctx := t.Context()
	addrs := runService(t)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	open := func() *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addrs.HTTP+"/events", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var streams []*http.Response
	defer func() {
		for _, r := range streams {
			r.Body.Close()
		}
	}()
	for i := range 8 {
		r := open()
		streams = append(streams, r)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("event stream %d = %d, want 200", i, r.StatusCode)
		}
	}
	r := open()
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "8 per client") {
		t.Errorf("ninth event stream = %d %q, want 429 naming the per-client bound", r.StatusCode, body)
	}
	for _, r := range streams {
		r.Body.Close()
	}
	streams = nil
}

// runService runs the real wiring on loopback, the gRPC and HTTP listeners
// on free ports, with args added, until the test ends; then it checks that
// the service shut down cleanly.
func runService(t *testing.T, args ...string) servingLine {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	addrs, done := startRun(t, ctx, &logs, append([]string{"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--grace-period=2s"}, args...)...)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run() = %v", err)
		}
	})
	return addrs
}

// TestReloadOtherMethods: GET /-/reload is 405 with Allow: POST, not the
// page's 404, so a mistyped curl says what to do.
func TestReloadOtherMethods(t *testing.T) {
	addrs := runService(t)
	for _, method := range []string{http.MethodGet, http.MethodPut} {
		req, err := http.NewRequestWithContext(t.Context(), method, "http://"+addrs.HTTP+"/-/reload", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
			t.Errorf("%s /-/reload = %d, Allow %q; want 405, Allow POST", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// bearerGet GETs path on the HTTP address httpAddr with token as the
// bearer token ("": none) and returns the status and the body.
func bearerGet(t *testing.T, httpAddr, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+httpAddr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
