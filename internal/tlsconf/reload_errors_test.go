package tlsconf_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tlstest"
)

// TestFailedReloadIsLoggedAndCounted breaks the serving pair twice, once
// unparsable and once missing, and checks each failure is logged at WARN
// and counted once however many handshakes see it, while the previous
// certificate keeps serving.
func TestFailedReloadIsLoggedAndCounted(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	first, second := ca.Server(t, "first"), ca.Server(t, "second")
	dir := t.TempDir()
	live := tlstest.Pair{Cert: dir + "/tls.crt", Key: dir + "/tls.key"}
	mod := time.Now().Truncate(time.Second) // the certificates are valid around now
	write := func(file string, b []byte) {
		t.Helper()
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		mod = mod.Add(time.Minute)
		if err := os.Chtimes(file, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	install := func(p tlstest.Pair) {
		t.Helper()
		for src, dst := range map[string]string{p.Cert: live.Cert, p.Key: live.Key} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			write(dst, b)
		}
	}
	install(first)
	var clock fakeClock
	clock.ns.Store(mod.UnixNano())
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	reg := prometheus.NewRegistry()
	opts := []tlsconf.Option{tlsconf.WithLogger(logger), tlsconf.WithRegisterer(reg)}
	srvCfg, err := tlsconf.ServerAt(tlsconf.ServerFiles{Cert: live.Cert, Key: live.Key}, clock.now, opts...)
	if err != nil {
		t.Fatal(err)
	}
	// A client configuration may share the registerer.
	cliCfg, err := tlsconf.Client(tlsconf.ClientFiles{CA: ca.File, ServerName: "localhost"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	check := func(want string, wantErrors int) {
		t.Helper()
		for range 3 {
			clock.advance(time.Second)
			if cn, srvErr, cliErr := handshake(t, srvCfg, cliCfg); srvErr != nil || cliErr != nil || cn != want {
				t.Fatalf("handshake = %q, %v, %v; want server CN %q", cn, srvErr, cliErr, want)
			}
		}
		metrics := fmt.Sprintf(`# HELP astraguard_tls_reload_errors_total Failed reloads of a changed TLS certificate or key, each distinct failure once; the previous pair stays in use.
# TYPE astraguard_tls_reload_errors_total counter
astraguard_tls_reload_errors_total{pair="server"} %d
`, wantErrors)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(metrics), "astraguard_tls_reload_errors_total"); err != nil {
			t.Error(err)
		}
		if warns := strings.Count(logs.String(), `"level":"WARN","msg":"tls certificate reload failed`); warns != wantErrors {
			t.Errorf("after 3 checks: %d reload failures logged at WARN, want %d\n%s", warns, wantErrors, logs.String())
		}
	}
	check("first", 0)
	write(live.Cert, []byte("half-written"))
	check("first", 1)
	if err := os.Remove(live.Key); err != nil {
		t.Fatal(err)
	}
	check("first", 2)
	install(second)
	check("second", 2)
}

// TestReloadRefusesCertificateOutsideValidity rotates the serving pair to
// an expired certificate, then to one not valid yet: both parse and match
// their keys, but installing either would fail every handshake, so the
// previous certificate keeps serving and each refusal is logged and
// counted once, naming why. The one not valid yet is installed once the
// clock reaches its start.
func TestReloadRefusesCertificateOutsideValidity(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	start := time.Now().Truncate(time.Second)
	first := ca.Server(t, "first")
	expired := ca.ServerValid(t, "expired", start.Add(-48*time.Hour), start.Add(-24*time.Hour))
	future := ca.ServerValid(t, "future", start.Add(time.Hour), start.Add(48*time.Hour))
	dir := t.TempDir()
	live := tlstest.Pair{Cert: dir + "/tls.crt", Key: dir + "/tls.key"}
	mod := start
	install := func(p tlstest.Pair) {
		t.Helper()
		for src, dst := range map[string]string{p.Cert: live.Cert, p.Key: live.Key} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
			mod = mod.Add(time.Minute)
			if err := os.Chtimes(dst, mod, mod); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(first)
	var clock fakeClock
	clock.ns.Store(start.UnixNano())
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	reg := prometheus.NewRegistry()
	srvCfg, err := tlsconf.ServerAt(tlsconf.ServerFiles{Cert: live.Cert, Key: live.Key}, clock.now,
		tlsconf.WithLogger(logger), tlsconf.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	cliCfg, err := tlsconf.Client(tlsconf.ClientFiles{CA: ca.File, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	cliCfg.Time = clock.now // the client verifies at the test's time too
	check := func(want string, wantErrors int, wantLog string) {
		t.Helper()
		for range 3 {
			clock.advance(time.Second)
			if cn, srvErr, cliErr := handshake(t, srvCfg, cliCfg); srvErr != nil || cliErr != nil || cn != want {
				t.Fatalf("handshake = %q, %v, %v; want server CN %q", cn, srvErr, cliErr, want)
			}
		}
		metrics := fmt.Sprintf(`# HELP astraguard_tls_reload_errors_total Failed reloads of a changed TLS certificate or key, each distinct failure once; the previous pair stays in use.
# TYPE astraguard_tls_reload_errors_total counter
astraguard_tls_reload_errors_total{pair="server"} %d
`, wantErrors)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(metrics), "astraguard_tls_reload_errors_total"); err != nil {
			t.Error(err)
		}
		if warns := strings.Count(logs.String(), `"level":"WARN","msg":"tls certificate reload failed`); warns != wantErrors {
			t.Errorf("%d reload failures logged at WARN, want %d\n%s", warns, wantErrors, logs.String())
		}
		if !strings.Contains(logs.String(), wantLog) {
			t.Errorf("logs do not say %q:\n%s", wantLog, logs.String())
		}
	}
	check("first", 0, "")
	install(expired)
	check("first", 1, "certificate expired at "+start.Add(-24*time.Hour).UTC().Format(time.RFC3339))
	install(future)
	check("first", 2, "certificate not valid yet: valid from "+start.Add(time.Hour).UTC().Format(time.RFC3339))
	clock.advance(time.Hour)
	check("future", 2, "")
}

// TestStartWithExpiredCertificateWarns: a pair outside its validity
// period at start is loaded (there is no other to serve, and a rotation
// replaces it) but logged at WARN with the reason, since every handshake
// will fail; a valid one logs nothing.
func TestStartWithExpiredCertificateWarns(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	now := time.Now()
	expired := ca.ServerValid(t, "expired", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	for _, tt := range []struct {
		pair tlstest.Pair
		want string
	}{
		{ca.Server(t, "valid"), ""},
		{expired, "certificate expired at " + now.Add(-24*time.Hour).UTC().Format(time.RFC3339)},
	} {
		var logs bytes.Buffer
		logger := slog.New(slog.NewJSONHandler(&logs, nil))
		if _, err := tlsconf.ServerAt(tlsconf.ServerFiles{Cert: tt.pair.Cert, Key: tt.pair.Key}, time.Now, tlsconf.WithLogger(logger)); err != nil {
			t.Fatalf("Server(%s) = %v, want it loaded", tt.pair.Cert, err)
		}
		warned := strings.Contains(logs.String(), `"level":"WARN","msg":"tls certificate not valid now`)
		if warned != (tt.want != "") || !strings.Contains(logs.String(), tt.want) {
			t.Errorf("Server(%s) logged %q, want a WARN: %v, saying %q", tt.pair.Cert, logs.String(), tt.want != "", tt.want)
		}
	}
}
