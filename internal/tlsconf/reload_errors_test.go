package tlsconf_test

import (
	"bytes"
	"crypto/tls"
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

// reloadRig serves a live pair of files, rewritten by the test, through a
// server configuration on a fake clock, with its logs and metrics, and a
// client of the test's CA that verifies at the same clock.
type reloadRig struct {
	t              *testing.T
	live           tlstest.Pair
	mod            time.Time // the latest rewrite's modification time
	clock          fakeClock
	logs           bytes.Buffer
	reg            *prometheus.Registry
	srvCfg, cliCfg *tls.Config
}

// newReloadRig installs first as the live pair, its files modified from
// start on, and starts the clock at the last of them.
func newReloadRig(t *testing.T, ca *tlstest.CA, first tlstest.Pair, start time.Time) *reloadRig {
	t.Helper()
	dir := t.TempDir()
	r := &reloadRig{t: t, live: tlstest.Pair{Cert: dir + "/tls.crt", Key: dir + "/tls.key"}, mod: start, reg: prometheus.NewRegistry()}
	r.install(first)
	r.clock.ns.Store(r.mod.UnixNano())
	logger := slog.New(slog.NewJSONHandler(&r.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts := []tlsconf.Option{tlsconf.WithLogger(logger), tlsconf.WithRegisterer(r.reg)}
	var err error
	if r.srvCfg, err = tlsconf.ServerAt(tlsconf.ServerFiles{Cert: r.live.Cert, Key: r.live.Key}, r.clock.now, opts...); err != nil {
		t.Fatal(err)
	}
	// A client configuration may share the registerer.
	if r.cliCfg, err = tlsconf.Client(tlsconf.ClientFiles{CA: ca.File, ServerName: "localhost"}, opts...); err != nil {
		t.Fatal(err)
	}
	r.cliCfg.Time = r.clock.now // the client verifies at the test's time too
	return r
}

// write rewrites file, a minute after the previous rewrite.
func (r *reloadRig) write(file string, b []byte) {
	r.t.Helper()
	if err := os.WriteFile(file, b, 0o600); err != nil {
		r.t.Fatal(err)
	}
	r.mod = r.mod.Add(time.Minute)
	if err := os.Chtimes(file, r.mod, r.mod); err != nil {
		r.t.Fatal(err)
	}
}

// install copies p over the live pair.
func (r *reloadRig) install(p tlstest.Pair) {
	r.t.Helper()
	for src, dst := range map[string]string{p.Cert: r.live.Cert, p.Key: r.live.Key} {
		b, err := os.ReadFile(src)
		if err != nil {
			r.t.Fatal(err)
		}
		r.write(dst, b)
	}
}

// check makes three handshakes a second apart, each presenting the
// certificate named want, and checks wantErrors failed reloads counted
// and logged at WARN so far, and wantLog in the logs.
func (r *reloadRig) check(want string, wantErrors int, wantLog string) {
	r.t.Helper()
	for range 3 {
		r.clock.advance(time.Second)
		if cn, srvErr, cliErr := handshake(r.t, r.srvCfg, r.cliCfg); srvErr != nil || cliErr != nil || cn != want {
			r.t.Fatalf("handshake = %q, %v, %v; want server CN %q", cn, srvErr, cliErr, want)
		}
	}
	metrics := fmt.Sprintf(`# HELP astraguard_tls_reload_errors_total Failed reloads of a changed TLS certificate or key, each distinct failure once; the previous pair stays in use.
# TYPE astraguard_tls_reload_errors_total counter
astraguard_tls_reload_errors_total{pair="server"} %d
`, wantErrors)
	if err := testutil.GatherAndCompare(r.reg, strings.NewReader(metrics), "astraguard_tls_reload_errors_total"); err != nil {
		r.t.Error(err)
	}
	logs := r.logs.String()
	if warns := strings.Count(logs, `"level":"WARN","msg":"tls certificate reload failed`); warns != wantErrors {
		r.t.Errorf("%d reload failures logged at WARN, want %d\n%s", warns, wantErrors, logs)
	}
	if !strings.Contains(logs, wantLog) {
		r.t.Errorf("logs do not say %q:\n%s", wantLog, logs)
	}
}

// TestFailedReloadIsLoggedAndCounted breaks the serving pair twice, once
// unparsable and once missing, and checks each failure is logged at WARN
// and counted once however many handshakes see it, while the previous
// certificate keeps serving.
func TestFailedReloadIsLoggedAndCounted(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	first, second := ca.Server(t, "first"), ca.Server(t, "second")
	r := newReloadRig(t, ca, first, time.Now().Truncate(time.Second)) // the certificates are valid around now
	r.check("first", 0, "")
	r.write(r.live.Cert, []byte("half-written"))
	r.check("first", 1, "")
	if err := os.Remove(r.live.Key); err != nil {
		t.Fatal(err)
	}
	r.check("first", 2, "")
	r.install(second)
	r.check("second", 2, "")
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
	r := newReloadRig(t, ca, first, start)
	r.check("first", 0, "")
	r.install(expired)
	r.check("first", 1, "certificate expired at "+start.Add(-24*time.Hour).UTC().Format(time.RFC3339))
	r.install(future)
	r.check("first", 2, "certificate not valid yet: valid from "+start.Add(time.Hour).UTC().Format(time.RFC3339))
	r.clock.advance(time.Hour)
	r.check("future", 2, "")
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
