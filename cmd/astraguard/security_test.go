package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/modelserver"
	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tlstest"
)

const testToken = "e2e-admin-token-5f0c9a7d31b2"

// withToken is an environment that holds testToken in adminTokenEnv.
func withToken(k string) (string, bool) { return testToken, k == adminTokenEnv }

// writeTokenFile writes testToken to a new file for --admin-token-file
// and returns its path.
func writeTokenFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(path, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseSecurityConfig(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
		env  func(string) (string, bool)
	}{
		{"file", []string{"--admin-token-file=" + tokenFile, "--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0"}, noEnv},
		{"env", []string{"--grpc-addr=localhost:0", "--http-addr=[::1]:0"}, withToken},
	} {
		cfg, err := parseConfig(tc.args, tc.env, io.Discard)
		if err != nil {
			t.Fatalf("%s: parseConfig() error = %v", tc.name, err)
		}
		if cfg.sec.adminToken == nil || string(*cfg.sec.adminToken) != testToken {
			t.Errorf("%s: token not loaded (trailing newline must be trimmed)", tc.name)
		}
		for _, printed := range []string{fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, *cfg.sec.adminToken), cfg.sec.authMode()} {
			if strings.Contains(printed, testToken) {
				t.Errorf("%s: printing the config shows the token: %s", tc.name, printed)
			}
		}
	}

	mtls := []string{"--tls-cert=c.pem", "--tls-key=k.pem", "--tls-client-ca=ca.pem"}
	cfg, err := parseConfig(append([]string{"--admin-allowed-identity=spiffe://a/ops,ops2", "--admin-allowed-identity", "ops3", "--model-tls-ca=x.pem"}, mtls...), noEnv, io.Discard)
	if err != nil || strings.Join(cfg.sec.adminIdentities, " ") != "spiffe://a/ops ops2 ops3" || !cfg.sec.modelTLS {
		t.Errorf("parseConfig(identities) = %v, %v; want 3 identities and model TLS on", cfg.sec.adminIdentities, err)
	}
	adminMTLS := []string{"--admin-allowed-identity=ops", "--admin-addr=127.0.0.1:0", "--tls-cert=c.pem", "--tls-key=k.pem", "--admin-tls-client-ca=ca.pem"}
	if _, err := parseConfig(adminMTLS, noEnv, io.Discard); err != nil {
		t.Errorf("parseConfig(%q) error = %v, want none: the admin listener verifies client certificates", adminMTLS, err)
	}

	for _, tc := range []struct {
		args []string
		env  func(string) (string, bool)
	}{
		{[]string{"--tls-cert=c.pem"}, noEnv},
		{[]string{"--tls-key=k.pem"}, noEnv},
		{[]string{"--tls-client-ca=ca.pem"}, noEnv},
		{[]string{"--admin-tls-client-ca=ca.pem", "--tls-cert=c", "--tls-key=k"}, noEnv},
		{[]string{"--model-tls-cert=c.pem"}, noEnv},
		{[]string{"--admin-token-file=" + tokenFile}, withToken},
		{[]string{"--admin-token-file=" + empty}, noEnv},
		{[]string{"--admin-token-file=" + filepath.Join(dir, "missing")}, noEnv},
		{nil, func(k string) (string, bool) { return "", k == adminTokenEnv }},
		// No client CA: no certificate is verified, so no identity could match.
		{[]string{"--admin-allowed-identity=spiffe://a/ops"}, noEnv},
		{[]string{"--admin-allowed-identity=ops", "--tls-cert=c.pem", "--tls-key=k.pem"}, noEnv},
		{[]string{"--admin-allowed-identity=ops", "--tls-cert=c.pem", "--tls-key=k.pem", "--admin-addr=127.0.0.1:0"}, noEnv},
		{nil, func(k string) (string, bool) { return "spiffe://a/ops", k == "ASTRAGUARD_ADMIN_ALLOWED_IDENTITY" }},
	} {
		_, err := parseConfig(tc.args, tc.env, io.Discard)
		if err == nil {
			t.Errorf("parseConfig(%q) error = nil, want one", tc.args)
		} else if strings.Contains(err.Error(), testToken) {
			t.Errorf("parseConfig(%q) error %q shows the token", tc.args, err)
		}
	}
	// A short token is refused when the server is built, without echoing it.
	short := secret("short")
	s := securityConfig{adminToken: &short}
	if _, err := s.serverOptions(); err == nil || strings.Contains(err.Error(), "short") {
		t.Errorf("serverOptions(short token) error = %v, want one that does not quote it", err)
	}
}

// startTLSModelServer serves the reference model on loopback over mutual
// TLS: only clients with a certificate from ca get through.
func startTLSModelServer(t *testing.T, ca *tlstest.CA) string {
	t.Helper()
	pair := ca.Server(t, "model-server")
	cfg, err := tlsconf.Server(tlsconf.ServerFiles{Cert: pair.Cert, Key: pair.Key, ClientCA: ca.File})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := modelserver.New(tmpl, modelserver.Config{MaxSeries: 1000})
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)))
	inference.RegisterGRPCInferenceServiceServer(srv, ms)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-done; err != nil {
			t.Errorf("model Serve() = %v", err)
		}
	})
	return lis.Addr().String()
}

func tlsCreds(t *testing.T, ca *tlstest.CA, cert *tlstest.Pair) (credentials.TransportCredentials, *tls.Config) {
	t.Helper()
	f := tlsconf.ClientFiles{CA: ca.File, ServerName: "localhost"}
	if cert != nil {
		f.Cert, f.Key = cert.Cert, cert.Key
	}
	cfg, err := tlsconf.Client(f)
	if err != nil {
		t.Fatal(err)
	}
	return credentials.NewTLS(cfg), cfg
}

// TestRunWithTLSAndAdminToken runs the real wiring with mutual TLS on the
// gRPC and HTTP listeners, BreakerAdmin on its own address behind a token,
// and the model client speaking mutual TLS to a model server.
func TestRunWithTLSAndAdminToken(t *testing.T) {
	ca := tlstest.NewCA(t, "e2e")
	srvPair, ops := ca.Server(t, "astraguard"), ca.Client(t, "ops", "spiffe://astraguard/ops")
	modelClient := ca.Client(t, "astraguard-model-client")
	modelAddr := startTLSModelServer(t, ca)
	tokenFile := writeTokenFile(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs syncBuffer
	addrs, done := startRun(t, ctx, &logs,
		"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--admin-addr=127.0.0.1:0", "--grace-period=2s",
		// The first model call includes the TLS handshake; on a loaded
		// machine that can outlast the 100ms default, which this test
		// would misread as a failure over TLS.
		"--model-timeout=30s",
		"--tls-cert="+srvPair.Cert, "--tls-key="+srvPair.Key, "--tls-client-ca="+ca.File,
		"--admin-token-file="+tokenFile,
		"--model-addr="+modelAddr, "--model-tls-ca="+ca.File, "--model-tls-server-name=localhost",
		"--model-tls-cert="+modelClient.Cert, "--model-tls-key="+modelClient.Key,
	)
	grpcAddr, httpAddr, adminAddr := addrs.GRPC, addrs.HTTP, addrs.Admin

	opsCreds, opsTLS := tlsCreds(t, ca, &ops)
	mainConn := newConn(t, grpcAddr, opsCreds)
	resp, err := astraguardv1.NewDetectorServiceClient(mainConn).DetectBatch(ctx, &astraguardv1.DetectBatchRequest{
		Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/voltage", Values: []float64{8.1, 8.2}}},
	})
	if err != nil || len(resp.GetVerdicts()) != 2 {
		t.Fatalf("DetectBatch over mTLS = %v, %v, want 2 verdicts", resp, err)
	}

	force := &astraguardv1.ForceBreakerRequest{Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "e2e drill", Ttl: durationpb.New(time.Minute)}
	if _, err := astraguardv1.NewBreakerAdminClient(mainConn).ForceBreaker(ctx, force); status.Code(err) != codes.Unimplemented {
		t.Errorf("ForceBreaker on --grpc-addr = %v, want UNIMPLEMENTED (admin has its own address)", err)
	}
	admin := astraguardv1.NewBreakerAdminClient(newConn(t, adminAddr, opsCreds))
	got, err := admin.GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: "model"})
	if err != nil || got.GetBreaker().GetTotals().GetSuccesses() == 0 || got.GetBreaker().GetTotals().GetFailures() != 0 {
		t.Errorf("GetBreaker(model) = %v, %v; want model successes over TLS and no failures", got, err)
	}
	// The client is known by its certificate but not allowed: PERMISSION_DENIED.
	if _, err := admin.ForceBreaker(ctx, force); status.Code(err) != codes.PermissionDenied {
		t.Errorf("ForceBreaker without a token = %v, want PERMISSION_DENIED", err)
	}
	bad := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer not-"+testToken)
	if _, err := admin.ForceBreaker(bad, force); status.Code(err) != codes.PermissionDenied {
		t.Errorf("ForceBreaker with a wrong token = %v, want PERMISSION_DENIED", err)
	}
	good := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+testToken)
	if _, err := admin.ForceBreaker(good, force); err != nil {
		t.Errorf("ForceBreaker with the token = %v", err)
	}

	plain := newConn(t, grpcAddr, insecure.NewCredentials())
	if _, err := healthpb.NewHealthClient(plain).Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext health check on the TLS port = %v, want UNAVAILABLE", err)
	}
	noCert, _ := tlsCreds(t, ca, nil)
	if _, err := healthpb.NewHealthClient(newConn(t, grpcAddr, noCert)).Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("health check without a client certificate = %v, want UNAVAILABLE", err)
	}

	if body, err := httpsGet(ctx, opsTLS, "https://"+httpAddr+"/metrics"); err != nil || !strings.Contains(body, "astraguard_circuit_state") {
		t.Errorf("GET /metrics over mTLS = %.80q, %v", body, err)
	}
	_, noCertTLS := tlsCreds(t, ca, nil)
	if _, err := httpsGet(ctx, noCertTLS, "https://"+httpAddr+"/healthz"); err == nil {
		t.Errorf("GET /healthz without a client certificate succeeded, want a TLS error")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run() error = %v, want nil after shutdown", err)
	}
	out := logs.String()
	if strings.Contains(out, testToken) {
		t.Errorf("logs show the admin token:\n%s", out)
	}
	for _, want := range []string{`"who":"bearer token"`, `"reason":"e2e drill"`, `"admin_auth":"bearer token"`, `"mtls":true`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "model not ready at start") {
		t.Errorf("the model client could not reach the TLS model server:\n%s", out)
	}
}

func newConn(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestHTTPErrorLogLevels(t *testing.T) {
	var buf syncBuffer
	l := httpErrorLog(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	// The lines net/http writes for a failed handshake and an accept error.
	l.Printf("http: TLS handshake error from %s: %v", "203.0.113.9:4711", "EOF")
	l.Printf("http: Accept error: %v; retrying in %v", "accept4: too many open files", "5ms")
	var got []string
	for line := range strings.Lines(buf.String()) {
		var e struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		got = append(got, e.Level+" "+e.Msg)
	}
	want := []string{
		"DEBUG http: TLS handshake error from 203.0.113.9:4711: EOF",
		"INFO http: Accept error: accept4: too many open files; retrying in 5ms",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("http error log (-want +got):\n%s", diff)
	}
}

func httpsGet(ctx context.Context, cfg *tls.Config, url string) (string, error) {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestPlaintextTokenRefusedBeyondLoopback: an admin token with TLS off is
// refused at start (and by --check-config) when a listener that takes it
// is bound beyond loopback, unless --allow-plaintext-tokens: the token
// would cross the network in clear text. Loopback listeners, TLS, or no
// token at all (the README's quick start) start as before.
func TestPlaintextTokenRefusedBeyondLoopback(t *testing.T) {
	tok := "--admin-token-file=" + writeTokenFile(t)
	for _, tc := range []struct {
		args    []string
		env     func(string) (string, bool)
		refused string // the flag the error names; empty: accepted
	}{
		{nil, noEnv, ""}, // the README's first command
		{[]string{tok}, noEnv, "--grpc-addr"},
		{nil, withToken, "--grpc-addr"},
		{[]string{tok, "--grpc-addr=127.0.0.1:0"}, noEnv, "--http-addr"},
		{[]string{tok, "--grpc-addr=[::]:0", "--http-addr="}, noEnv, "--grpc-addr"},
		{[]string{tok, "--grpc-addr=127.0.0.1:0", "--http-addr=0.0.0.0:0"}, noEnv, "--http-addr"},
		{[]string{tok, "--grpc-addr=:0", "--admin-addr=192.0.2.1:0", "--http-addr="}, noEnv, "--admin-addr"},
		{[]string{tok, "--grpc-addr=127.0.0.1:0", "--http-addr=[::1]:0"}, noEnv, ""},
		{[]string{tok, "--grpc-addr=localhost:0", "--http-addr="}, noEnv, ""},
		// BreakerAdmin on its own loopback address: --grpc-addr takes no token.
		{[]string{tok, "--grpc-addr=:0", "--admin-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0"}, noEnv, ""},
		{[]string{tok, "--tls-cert=c.pem", "--tls-key=k.pem"}, noEnv, ""},
		{[]string{tok, "--allow-plaintext-tokens"}, noEnv, ""},
		{[]string{"--allow-plaintext-tokens"}, withToken, ""},
	} {
		_, err := parseConfig(tc.args, tc.env, io.Discard)
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("parseConfig(%q) = %v, want it accepted", tc.args, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), "--allow-plaintext-tokens")):
			t.Errorf("parseConfig(%q) = %v, want a refusal naming %s and --allow-plaintext-tokens", tc.args, err, tc.refused)
		case err != nil && strings.Contains(err.Error(), testToken):
			t.Errorf("parseConfig(%q) error %q shows the token", tc.args, err)
		}
	}
	// --check-config, which validates what start-up would, refuses it too.
	var logs syncBuffer
	if err := run(t.Context(), []string{tok, "--grpc-addr=:0", "--http-addr=", "--check-config"}, &logs); err == nil || !strings.Contains(err.Error(), "clear text") {
		t.Errorf("run(token, --grpc-addr=:0, --check-config) = %v, want the clear-text refusal", err)
	}
}
