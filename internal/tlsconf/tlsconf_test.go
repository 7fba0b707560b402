package tlsconf_test

import (
	"crypto/tls"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tlstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// handshake runs a TLS handshake over loopback TCP (kernel buffers let
// either side write its alert without the other reading) and returns the
// server certificate's CN as the client saw it and both sides' errors.
func handshake(t *testing.T, srvCfg, cliCfg *tls.Config) (serverCN string, srvErr, cliErr error) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	done := make(chan error, 1)
	go func() {
		c, err := lis.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		srv := tls.Server(c, srvCfg)
		err = srv.HandshakeContext(t.Context())
		if err == nil {
			// TLS 1.3 clients finish before the server checks their
			// certificate: a read makes the server's verdict reach them.
			_, err = srv.Write([]byte{1})
		}
		done <- err
	}()
	raw, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cli := tls.Client(raw, cliCfg)
	if cliErr = cli.HandshakeContext(t.Context()); cliErr == nil {
		serverCN = cli.ConnectionState().PeerCertificates[0].Subject.CommonName
		_, cliErr = cli.Read(make([]byte, 1))
	}
	raw.Close()
	srvErr = <-done
	return serverCN, srvErr, cliErr
}

func TestServerAndClient(t *testing.T) {
	ca, other := tlstest.NewCA(t, "test"), tlstest.NewCA(t, "other")
	srvPair := ca.Server(t, "server")
	ops := ca.Client(t, "ops")
	stranger := other.Client(t, "stranger")
	tls11 := &tls.Config{MaxVersion: tls.VersionTLS11}
	tests := []struct {
		name    string
		server  tlsconf.ServerFiles
		client  tlsconf.ClientFiles
		tweak   *tls.Config // client max version override
		wantErr bool
	}{
		{"tls", tlsconf.ServerFiles{Cert: srvPair.Cert, Key: srvPair.Key}, tlsconf.ClientFiles{CA: ca.File, ServerName: "localhost"}, nil, false},
		{"wrong CA", tlsconf.ServerFiles{Cert: srvPair.Cert, Key: srvPair.Key}, tlsconf.ClientFiles{CA: other.File, ServerName: "localhost"}, nil, true},
		{"wrong name", tlsconf.ServerFiles{Cert: srvPair.Cert, Key: srvPair.Key}, tlsconf.ClientFiles{CA: ca.File, ServerName: "model.example"}, nil, true},
		{"mtls", tlsconf.ServerFiles{Cert: srvPair.Cert, Key: srvPair.Key, ClientCA: ca.File}, tlsconf.ClientFiles{CA: ca.File, Cert: ops.Cert, Key: ops.Key, ServerName: "localhost"}, nil, false},
		{"mtls without client cert", tlsconf.ServerFiles{Cert: srvPair.Cert, Key: srvPair.Key, ClientCA: ca.File}, tlsconf.ClientFiles{CA: ca.File, ServerName: "localhost"}, nil, true},
		{"mtls with a foreign client cert", tlsconf.ServerFiles{Cert: srvPair.Cert, Key: srvPair.Key, ClientCA: ca.File}, tlsconf.ClientFiles{CA: ca.File, Cert: stranger.Cert, Key: stranger.Key, ServerName: "localhost"}, nil, true},
		{"tls 1.1 refused", tlsconf.ServerFiles{Cert: srvPair.Cert, Key: srvPair.Key}, tlsconf.ClientFiles{CA: ca.File, ServerName: "localhost"}, tls11, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srvCfg, err := tlsconf.Server(tt.server)
			if err != nil {
				t.Fatalf("Server(%+v) error = %v", tt.server, err)
			}
			cliCfg, err := tlsconf.Client(tt.client)
			if err != nil {
				t.Fatalf("Client(%+v) error = %v", tt.client, err)
			}
			if tt.tweak != nil {
				cliCfg.MinVersion, cliCfg.MaxVersion = tls.VersionTLS10, tt.tweak.MaxVersion
			}
			_, srvErr, cliErr := handshake(t, srvCfg, cliCfg)
			if got := srvErr != nil || cliErr != nil; got != tt.wantErr {
				t.Errorf("handshake errors = server %v, client %v; want failure %v", srvErr, cliErr, tt.wantErr)
			}
		})
	}
}

func TestConfigErrorsNameFilesOnly(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	p := ca.Server(t, "server")
	keyPEM, err := os.ReadFile(p.Key)
	if err != nil {
		t.Fatal(err)
	}
	garbage := t.TempDir() + "/garbage.pem"
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"no key", func() error { _, err := tlsconf.Server(tlsconf.ServerFiles{Cert: p.Cert}); return err }},
		{"key as cert", func() error { _, err := tlsconf.Server(tlsconf.ServerFiles{Cert: p.Key, Key: p.Key}); return err }},
		{"missing file", func() error {
			_, err := tlsconf.Server(tlsconf.ServerFiles{Cert: "/nonexistent/c.pem", Key: p.Key})
			return err
		}},
		{"bad client CA", func() error {
			_, err := tlsconf.Server(tlsconf.ServerFiles{Cert: p.Cert, Key: p.Key, ClientCA: garbage})
			return err
		}},
		{"key as CA", func() error { _, err := tlsconf.Client(tlsconf.ClientFiles{CA: p.Key}); return err }},
		{"cert without key", func() error { _, err := tlsconf.Client(tlsconf.ClientFiles{Cert: p.Cert}); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil {
				t.Fatal("error = nil, want one")
			}
			if strings.Contains(err.Error(), strings.TrimSpace(string(keyPEM))[30:60]) {
				t.Errorf("error %q quotes the private key", err)
			}
		})
	}
}

// fakeClock is a clock the test moves; handshakes read it on the server's
// goroutine.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestServerReloadsRotatedCertificate rewrites the serving pair and checks
// that the first handshake after the check interval presents the new
// certificate, not one before it, and that a broken rewrite keeps the old
// one.
func TestServerReloadsRotatedCertificate(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	first, second := ca.Server(t, "first"), ca.Server(t, "second")
	dir := t.TempDir()
	live := tlstest.Pair{Cert: dir + "/tls.crt", Key: dir + "/tls.key"}
	install := func(p tlstest.Pair, mod time.Time) {
		t.Helper()
		for src, dst := range map[string]string{p.Cert: live.Cert, p.Key: live.Key} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
			// Distinct times: the files may be rewritten within the file
			// system's timestamp granularity.
			if err := os.Chtimes(dst, mod, mod); err != nil {
				t.Fatal(err)
			}
		}
	}
	base := time.Now().Truncate(time.Second) // the certificates are valid around now
	install(first, base)
	var clock fakeClock
	clock.ns.Store(base.UnixNano())
	srvCfg, err := tlsconf.ServerAt(tlsconf.ServerFiles{Cert: live.Cert, Key: live.Key}, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	cliCfg, err := tlsconf.Client(tlsconf.ClientFiles{CA: ca.File, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(want string) {
		t.Helper()
		cn, srvErr, cliErr := handshake(t, srvCfg, cliCfg)
		if srvErr != nil || cliErr != nil || cn != want {
			t.Errorf("handshake = %q, %v, %v; want server CN %q", cn, srvErr, cliErr, want)
		}
	}
	check("first")
	install(second, base.Add(time.Minute))
	clock.advance(time.Second - 1)
	check("first") // files are checked at most once a second
	clock.advance(1)
	check("second")
	if err := os.WriteFile(live.Cert, []byte("half-written"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Second)
	check("second")
}
