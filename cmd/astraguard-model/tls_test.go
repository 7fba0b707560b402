package main

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/detector/oip"
	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tlstest"
)

// TestServeMutualTLS runs the model server with --tls-* flags: the model
// client with a certificate from the CA is served over gRPC and HTTPS;
// plaintext clients and clients without a certificate are not.
func TestServeMutualTLS(t *testing.T) {
	ca := tlstest.NewCA(t, "model")
	srvPair, client := ca.Server(t, "model-server"), ca.Client(t, "astraguard")
	cfg, err := parseConfig([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error",
		"--tls-cert", srvPair.Cert, "--tls-key", srvPair.Key},
		func(k string) (string, bool) { return ca.File, k == "ASTRAGUARD_MODEL_TLS_CLIENT_CA" }, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig() = %v", err)
	}
	if cfg.tlsClientCA != ca.File {
		t.Fatalf("tlsClientCA = %q, want it from ASTRAGUARD_MODEL_TLS_CLIENT_CA", cfg.tlsClientCA)
	}
	_, lis, hlis, stop := startServe(t, cfg)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("serve() = %v", err)
		}
	}()

	clientTLS := func(withCert bool) credentials.TransportCredentials {
		f := tlsconf.ClientFiles{CA: ca.File}
		if withCert {
			f.Cert, f.Key = client.Cert, client.Key
		}
		c, err := tlsconf.Client(f)
		if err != nil {
			t.Fatal(err)
		}
		return credentials.NewTLS(c)
	}
	rctx, rcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer rcancel()
	// 127.0.0.1 is in the server certificate's IP SANs: no server name needed.
	conn, err := oip.NewConn(lis.Addr().String(), grpc.WithTransportCredentials(clientTLS(true)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := oip.New(conn, oip.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckReady(rctx); err != nil {
		t.Errorf("CheckReady() over mutual TLS = %v", err)
	}

	for name, creds := range map[string]credentials.TransportCredentials{
		"plaintext":             insecure.NewCredentials(),
		"no client certificate": clientTLS(false),
	} {
		conn, err := oip.NewConn(lis.Addr().String(), grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		_, err = inference.NewGRPCInferenceServiceClient(conn).ServerLive(rctx, &inference.ServerLiveRequest{})
		if status.Code(err) != codes.Unavailable {
			t.Errorf("%s: ServerLive() = %v, want UNAVAILABLE", name, err)
		}
		conn.Close()
	}

	httpsCfg, err := tlsconf.Client(tlsconf.ClientFiles{CA: ca.File, Cert: client.Cert, Key: client.Key})
	if err != nil {
		t.Fatal(err)
	}
	httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: httpsCfg, DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, "https://"+hlis.Addr().String()+"/readyz", nil)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatalf("GET /readyz over mutual TLS = %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200", resp.StatusCode)
	}
}

func TestParseTLSConfigErrors(t *testing.T) {
	for _, args := range [][]string{{"--tls-cert", "c.pem"}, {"--tls-key", "k.pem"}, {"--tls-client-ca", "ca.pem"}} {
		if _, err := parseConfig(args, func(string) (string, bool) { return "", false }, io.Discard); err == nil {
			t.Errorf("parseConfig(%q) error = nil, want one", args)
		}
	}
	// A missing file is caught at start, naming the file.
	cfg, err := parseConfig([]string{"--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newApp(cfg, io.Discard); err == nil {
		t.Errorf("newApp(missing cert) error = nil, want one")
	}
}
