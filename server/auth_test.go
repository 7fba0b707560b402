package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/testkit"
	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tlstest"
)

// authEnv is a Server on loopback TCP, so peers are real loopback
// addresses and TLS runs for real.
type authEnv struct {
	srv       *Server
	addr      string
	adminAddr string // set with WithAdminServer
	logs      *testkit.SyncBuffer
}

func newAuthEnv(t *testing.T, acfg AuthConfig, srvTLS *tls.Config, opts ...Option) *authEnv {
	t.Helper()
	e := &authEnv{logs: &testkit.SyncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hub := NewHub()
	breakers, err := breaker.NewRegistry(strict, breaker.WithObserver(hub.Publish))
	if err != nil {
		t.Fatal(err)
	}
	det, err := detector.New(&fakeModel{}, breakers.Breaker("model"), detector.Config{ModelTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAdminAuth(acfg)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]Option{WithLogger(logger), WithAdminAuth(a)}, opts...)
	if srvTLS != nil {
		opts = append(opts, WithGRPCOptions(grpc.Creds(credentials.NewTLS(srvTLS))))
	}
	e.srv, err = New(det, NewAdminService(breakers, hub, logger), Config{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	lis := authListen(t)
	e.addr = lis.Addr().String()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := e.srv.Serve(lis); err != nil {
			t.Errorf("Serve() = %v", err)
		}
	})
	if e.srv.adminGRPC != nil {
		alis := authListen(t)
		e.adminAddr = alis.Addr().String()
		wg.Go(func() {
			if err := e.srv.ServeAdmin(alis); err != nil {
				t.Errorf("ServeAdmin() = %v", err)
			}
		})
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
		wg.Wait()
	})
	e.srv.SetServing()
	return e
}

func authListen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}

func authDial(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func clientTLS(t *testing.T, ca *tlstest.CA, cert *tlstest.Pair) credentials.TransportCredentials {
	t.Helper()
	f := tlsconf.ClientFiles{CA: ca.File, ServerName: "localhost"}
	if cert != nil {
		f.Cert, f.Key = cert.Cert, cert.Key
	}
	cfg, err := tlsconf.Client(f)
	if err != nil {
		t.Fatal(err)
	}
	return credentials.NewTLS(cfg)
}

func serverTLS(t *testing.T, pair tlstest.Pair, clientCA string) *tls.Config {
	t.Helper()
	cfg, err := tlsconf.Server(tlsconf.ServerFiles{Cert: pair.Cert, Key: pair.Key, ClientCA: clientCA})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// adminCall makes one BreakerAdmin call by short name and returns its error.
func adminCall(ctx context.Context, c astraguardv1.BreakerAdminClient, call string) error {
	var err error
	switch call {
	case "force":
		_, err = c.ForceBreaker(ctx, &astraguardv1.ForceBreakerRequest{
			Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_CLOSED, Reason: "auth test", Ttl: durationpb.New(time.Minute)})
	case "reset":
		_, err = c.ResetBreaker(ctx, &astraguardv1.ResetBreakerRequest{Name: "model", Reason: "auth test"})
	case "list":
		_, err = c.ListBreakers(ctx, &astraguardv1.ListBreakersRequest{})
	case "get":
		_, err = c.GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: "model"})
	case "watch":
		var s grpc.ServerStreamingClient[astraguardv1.WatchBreakersResponse]
		if s, err = c.WatchBreakers(ctx, &astraguardv1.WatchBreakersRequest{}); err == nil {
			_, err = s.Recv() // the snapshot, or the denial
		}
	default:
		panic("unknown call " + call)
	}
	return err
}

const (
	goodToken  = "correct-horse-battery-staple-0042"
	wrongToken = "incorrect-donkey-cell-paperclip-7"
	opsID      = "spiffe://astraguard/ops"
)

func TestAdminAuthorization(t *testing.T) {
	ca := tlstest.NewCA(t, "auth")
	srvPair := ca.Server(t, "server")
	ops, intern := ca.Client(t, "ops-cn", opsID), ca.Client(t, "intern")
	spoof := ca.ClientFor(t, "spoof", tlstest.Identity{CN: opsID}) // the requester picked the CN
	envs := map[string]*authEnv{
		"token":       newAuthEnv(t, AuthConfig{Token: []byte(goodToken)}, serverTLS(t, srvPair, "")),
		"token+reads": newAuthEnv(t, AuthConfig{Token: []byte(goodToken), ProtectReads: true}, serverTLS(t, srvPair, "")),
		"mtls":        newAuthEnv(t, AuthConfig{Token: []byte(goodToken), AllowedIdentities: []string{opsID}}, serverTLS(t, srvPair, ca.File)),
		"mtls only":   newAuthEnv(t, AuthConfig{AllowedIdentities: []string{opsID}}, serverTLS(t, srvPair, ca.File)),
		"open":        newAuthEnv(t, AuthConfig{}, nil),
		"open+reads":  newAuthEnv(t, AuthConfig{ProtectReads: true}, nil),
	}
	tests := []struct {
		env   string
		cert  *tlstest.Pair
		token string
		call  string
		want  codes.Code
	}{
		{"token", nil, "", "force", codes.Unauthenticated},
		{"token", nil, wrongToken, "force", codes.Unauthenticated},
		{"token", nil, goodToken[:20], "reset", codes.Unauthenticated},
		{"token", nil, goodToken, "force", codes.OK},
		{"token", nil, goodToken, "reset", codes.OK},
		{"token", nil, "", "list", codes.OK},
		{"token", nil, "", "get", codes.OK},
		{"token", nil, wrongToken, "watch", codes.OK},
		{"token+reads", nil, "", "list", codes.Unauthenticated},
		{"token+reads", nil, wrongToken, "get", codes.Unauthenticated},
		{"token+reads", nil, "", "watch", codes.Unauthenticated},
		{"token+reads", nil, goodToken, "watch", codes.OK},
		{"token+reads", nil, goodToken, "list", codes.OK},
		{"mtls", &ops, "", "force", codes.OK},
		{"mtls", &ops, wrongToken, "reset", codes.OK},
		{"mtls", &intern, "", "force", codes.PermissionDenied},
		{"mtls", &intern, wrongToken, "force", codes.PermissionDenied},
		{"mtls", &intern, goodToken, "force", codes.OK},
		{"mtls", &intern, "", "list", codes.OK},
		{"mtls only", &intern, goodToken, "reset", codes.PermissionDenied},
		{"mtls only", &ops, "", "reset", codes.OK},
		{"mtls only", &spoof, "", "reset", codes.PermissionDenied},
		{"open", nil, "", "force", codes.OK},
		{"open", nil, "", "reset", codes.OK},
		{"open+reads", nil, "", "watch", codes.OK},
	}
	for _, tt := range tests {
		name := tt.env + "/" + tt.call
		if tt.cert != nil {
			name += "/cert=" + strings.TrimSuffix(tt.cert.Cert[strings.LastIndex(tt.cert.Cert, "/")+1:], ".pem")
		}
		switch tt.token {
		case goodToken:
			name += "/good token"
		case "":
		default:
			name += "/bad token"
		}
		t.Run(name, func(t *testing.T) {
			e := envs[tt.env]
			var creds credentials.TransportCredentials
			if tt.env != "open" && tt.env != "open+reads" {
				creds = clientTLS(t, ca, tt.cert)
			}
			client := astraguardv1.NewBreakerAdminClient(authDial(t, e.addr, creds))
			ctx := t.Context()
			if tt.token != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tt.token)
			}
			err := adminCall(ctx, client, tt.call)
			if got := status.Code(err); got != tt.want {
				t.Errorf("%s = %v, want %v", tt.call, err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), goodToken) || strings.Contains(err.Error(), wrongToken)) {
				t.Errorf("%s error %q quotes a token", tt.call, err)
			}
		})
	}
	for name, e := range envs {
		logs := e.logs.String()
		if strings.Contains(logs, goodToken) || strings.Contains(logs, wrongToken) || strings.Contains(logs, goodToken[:20]) {
			t.Errorf("env %s: logs quote a token:\n%s", name, logs)
		}
	}
	for env, want := range map[string][]string{
		"token": {`"who":"bearer token"`, `"action":"reset"`, `"reason":"auth test"`, `"peer":"127.0.0.1:`},
		"mtls":  {`"who":"client certificate ` + opsID + `"`, `"who":"bearer token"`, `PermissionDenied`},
		"open":  {`"who":"loopback peer (no admin credentials configured)"`},
	} {
		for _, w := range want {
			if logs := envs[env].logs.String(); !strings.Contains(logs, w) {
				t.Errorf("env %s: logs lack %s:\n%s", env, w, logs)
			}
		}
	}
}

func TestAdminAuthDecisions(t *testing.T) {
	open, err := NewAdminAuth(AuthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr net.Addr
		want codes.Code
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1}, codes.OK},
		{&net.TCPAddr{IP: net.ParseIP("127.3.2.1"), Port: 1}, codes.OK},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 1}, codes.OK},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 1}, codes.OK},
		{&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 1}, codes.PermissionDenied},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}, codes.PermissionDenied},
		{&net.UnixAddr{Name: "/tmp/x.sock", Net: "unix"}, codes.PermissionDenied},
		{nil, codes.PermissionDenied},
	} {
		ctx := t.Context()
		if tc.addr != nil {
			ctx = peer.NewContext(ctx, &peer.Peer{Addr: tc.addr})
		}
		_, err := open.authenticate(ctx)
		if got := status.Code(err); got != tc.want {
			t.Errorf("authenticate(peer %v) = %v, want %v", tc.addr, err, tc.want)
		}
	}
	for _, cfg := range []AuthConfig{
		{Token: []byte("short")},
		{Token: []byte("has a space in the middle!!")},
		{Token: []byte("ends-with-newline-0123456789\n")},
		{AllowedIdentities: []string{""}},
		{AllowedIdentities: []string{"://no-scheme"}},
	} {
		if _, err := NewAdminAuth(cfg); err == nil {
			t.Errorf("NewAdminAuth(%q) error = nil, want one", cfg.Token)
		} else if len(cfg.Token) > 0 && strings.Contains(err.Error(), strings.TrimSpace(string(cfg.Token))) {
			t.Errorf("NewAdminAuth error %q quotes the token", err)
		}
	}
}

func TestTLSTransport(t *testing.T) {
	ca, other := tlstest.NewCA(t, "transport"), tlstest.NewCA(t, "other")
	srvPair := ca.Server(t, "server")
	ops := ca.Client(t, "ops", opsID)
	tlsEnv := newAuthEnv(t, AuthConfig{}, serverTLS(t, srvPair, ""))
	mtlsEnv := newAuthEnv(t, AuthConfig{}, serverTLS(t, srvPair, ca.File))
	batch := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/voltage", Values: []float64{8}}}}
	for _, tc := range []struct {
		name  string
		addr  string
		creds credentials.TransportCredentials
		ok    bool
	}{
		{"tls client", tlsEnv.addr, clientTLS(t, ca, nil), true},
		{"plaintext client to tls port", tlsEnv.addr, nil, false},
		{"client trusting another CA", tlsEnv.addr, clientTLS(t, other, nil), false},
		{"mtls client", mtlsEnv.addr, clientTLS(t, ca, &ops), true},
		{"mtls without client cert", mtlsEnv.addr, clientTLS(t, ca, nil), false},
		{"plaintext client to mtls port", mtlsEnv.addr, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := authDial(t, tc.addr, tc.creds)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			resp, err := astraguardv1.NewDetectorServiceClient(conn).DetectBatch(ctx, batch)
			if tc.ok && (err != nil || len(resp.GetVerdicts()) != 1) {
				t.Errorf("DetectBatch() = %v, %v, want one verdict", resp, err)
			}
			if !tc.ok && status.Code(err) != codes.Unavailable {
				t.Errorf("DetectBatch() error = %v, want UNAVAILABLE (no connection)", err)
			}
		})
	}
}

func TestAdminOnItsOwnServer(t *testing.T) {
	e := newAuthEnv(t, AuthConfig{}, nil, WithAdminServer())
	main := authDial(t, e.addr, nil)
	admin := authDial(t, e.adminAddr, nil)
	for _, call := range []string{"force", "list", "watch"} {
		if err := adminCall(t.Context(), astraguardv1.NewBreakerAdminClient(main), call); status.Code(err) != codes.Unimplemented {
			t.Errorf("%s on the main port = %v, want UNIMPLEMENTED", call, err)
		}
		if err := adminCall(t.Context(), astraguardv1.NewBreakerAdminClient(admin), call); err != nil {
			t.Errorf("%s on the admin port = %v, want OK", call, err)
		}
	}
	batch := &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: "s", Values: []float64{1}}}}
	if _, err := astraguardv1.NewDetectorServiceClient(admin).DetectBatch(t.Context(), batch); status.Code(err) != codes.Unimplemented {
		t.Errorf("DetectBatch on the admin port = %v, want UNIMPLEMENTED", err)
	}
	if _, err := astraguardv1.NewDetectorServiceClient(main).DetectBatch(t.Context(), batch); err != nil {
		t.Errorf("DetectBatch on the main port = %v", err)
	}
	adminName := astraguardv1.BreakerAdmin_ServiceDesc.ServiceName
	detectName := astraguardv1.DetectorService_ServiceDesc.ServiceName
	for _, c := range []struct {
		port    string
		conn    *grpc.ClientConn
		service string
		want    codes.Code // NotFound: that port does not serve the service
	}{
		{"admin", admin, "", codes.OK},
		{"admin", admin, adminName, codes.OK},
		{"admin", admin, detectName, codes.NotFound},
		{"main", main, "", codes.OK},
		{"main", main, detectName, codes.OK},
		{"main", main, adminName, codes.NotFound},
	} {
		resp, err := healthpb.NewHealthClient(c.conn).Check(t.Context(), &healthpb.HealthCheckRequest{Service: c.service})
		if status.Code(err) != c.want || (c.want == codes.OK && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING) {
			t.Errorf("%s port health of %q = %v, %v, want %v and SERVING", c.port, c.service, resp, err, c.want)
		}
	}
	// An open watch on the admin port must not hold up shutdown.
	w, err := astraguardv1.NewBreakerAdminClient(admin).WatchBreakers(t.Context(), &astraguardv1.WatchBreakersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	e.srv.Shutdown(ctx)
	if _, err := w.Recv(); err == nil || err == io.EOF {
		t.Errorf("watch after shutdown = %v, want an error status", err)
	}
	if ctx.Err() != nil {
		t.Errorf("Shutdown used the whole grace period; the admin server did not drain")
	}
}

// TestAdminIdentityTypes checks that an allowed identity matches only its
// own kind of name: a URI identity only a URI SAN, any other a DNS SAN or
// the common name of a certificate without SANs. A requester who may pick
// a certificate's common name must not become a SPIFFE ID.
func TestAdminIdentityTypes(t *testing.T) {
	const spiffe, host = "spiffe://example.org/ops", "ops.example.org"
	ca := tlstest.NewCA(t, "identities")
	tests := []struct {
		name    string
		allowed string
		cert    tlstest.Identity
		want    codes.Code
	}{
		{"uri san", spiffe, tlstest.Identity{CN: "ops", URIs: []string{spiffe}}, codes.OK},
		{"uri as cn, no sans", spiffe, tlstest.Identity{CN: spiffe}, codes.PermissionDenied},
		{"uri as cn beside a dns san", spiffe, tlstest.Identity{CN: spiffe, DNS: []string{host}}, codes.PermissionDenied},
		{"longer uri san", spiffe, tlstest.Identity{URIs: []string{spiffe + "-admin"}}, codes.PermissionDenied},
		{"dns san", host, tlstest.Identity{CN: "someone", DNS: []string{"other.example.org", host}}, codes.OK},
		{"cn, no sans", host, tlstest.Identity{CN: host}, codes.OK},
		{"cn beside another dns san", host, tlstest.Identity{CN: host, DNS: []string{"other.example.org"}}, codes.PermissionDenied},
		{"cn beside a uri san", host, tlstest.Identity{CN: host, URIs: []string{spiffe}}, codes.PermissionDenied},
		{"cn beside an ip san", host, tlstest.Identity{CN: host, IPs: []net.IP{net.IPv4(10, 0, 0, 1)}}, codes.PermissionDenied},
		{"name as a schemeless uri san", host, tlstest.Identity{URIs: []string{host}}, codes.PermissionDenied},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAdminAuth(AuthConfig{AllowedIdentities: []string{tt.allowed}})
			if err != nil {
				t.Fatal(err)
			}
			leaf := loadLeaf(t, ca.ClientFor(t, fmt.Sprintf("cert%d", i), tt.cert))
			ctx := peer.NewContext(t.Context(), &peer.Peer{
				Addr: &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 1},
				AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{
					PeerCertificates: []*x509.Certificate{leaf},
					VerifiedChains:   [][]*x509.Certificate{{leaf}},
				}},
			})
			if _, err := a.authenticate(ctx); status.Code(err) != tt.want {
				t.Errorf("authenticate(allowed %q, cert %+v) = %v, want %v", tt.allowed, tt.cert, err, tt.want)
			}
		})
	}
}

func loadLeaf(t *testing.T, p tlstest.Pair) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(p.Cert, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}
