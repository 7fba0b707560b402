package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/tlsconf"
	"github.com/astraguard/astraguard/internal/tlstest"
)

func TestIsLoopbackTarget(t *testing.T) {
	for target, want := range map[string]bool{
		"127.0.0.1:50051":                true,
		"localhost:50051":                true,
		"[::1]:50051":                    true,
		"dns:///localhost:50051":         true,
		"passthrough:///127.0.0.1:50051": true,
		"unix:///run/astraguard.sock":    true,
		"10.0.0.7:50051":                 false,
		"astraguard.prod:50051":          false,
		"dns:///astraguard.prod:443":     false,
		"passthrough:///bufnet":          false,
	} {
		if got := isLoopbackTarget(target); got != want {
			t.Errorf("isLoopbackTarget(%q) = %v, want %v", target, got, want)
		}
	}
}

const secretToken = "agctl-test-token-73c1e0"

func TestTokenNeverInClearTextOffHost(t *testing.T) {
	c, _, _ := newAdminCLI(t, nil)
	err := c.run(t.Context(), []string{"breakers", "list", "--addr", "10.0.0.7:50051", "--token", secretToken})
	if exitCodeOf(err) != 2 || strings.Contains(err.Error(), secretToken) {
		t.Errorf("plaintext token to 10.0.0.7 = %v, want a usage error that does not quote the token", err)
	}
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	file, empty := filepath.Join(dir, "token"), filepath.Join(dir, "empty")
	if err := os.WriteFile(file, []byte(secretToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, fa, _ := newAdminCLI(t, map[string]string{"AGCTL_TOKEN_FILE": file})
	if err := c.run(t.Context(), []string{"breakers", "get", "model", "--addr", testAddr}); err != nil {
		t.Fatalf("breakers get with AGCTL_TOKEN_FILE = %v", err)
	}
	fa.mu.Lock()
	if diff := cmp.Diff([]string{"Bearer " + secretToken}, fa.auth); diff != "" {
		t.Errorf("authorization metadata (-want +got):\n%s", diff)
	}
	fa.mu.Unlock()
	for _, args := range [][]string{
		{"--token-file", empty},
		{"--token-file", filepath.Join(dir, "missing")},
		{"--token-file", file, "--token", "other-token-value"},
		{"--token-file", "/dev/zero"}, // a device is refused, not read until memory runs out
		{"--token-file", dir},
	} {
		c, _, _ := newAdminCLI(t, nil)
		err := c.run(t.Context(), append([]string{"breakers", "list", "--addr", testAddr}, args...))
		if err == nil || strings.Contains(err.Error(), secretToken) {
			t.Errorf("breakers list %q = %v, want an error that does not quote the token", args, err)
		}
	}
}

// TestMutualTLS runs agctl against a real loopback server that requires
// client certificates, and checks the token travels with the call.
func TestMutualTLS(t *testing.T) {
	ca := tlstest.NewCA(t, "agctl")
	srvPair, client := ca.Server(t, "server"), ca.Client(t, "ops")
	cfg, err := tlsconf.Server(tlsconf.ServerFiles{Cert: srvPair.Cert, Key: srvPair.Key, ClientCA: ca.File})
	if err != nil {
		t.Fatal(err)
	}
	fa := newFakeAdmin()
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)))
	astraguardv1.RegisterBreakerAdminServer(srv, fa)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("Serve: %v", err)
		}
	})
	addr := lis.Addr().String()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(secretToken), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AGCTL_TLS_CA": ca.File, "AGCTL_TLS_CERT": client.Cert, "AGCTL_TLS_KEY": client.Key}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		ok   bool
	}{
		{"mtls with token", env, []string{"--token-file", tokenFile}, true},
		{"flags", nil, []string{"--tls-ca", ca.File, "--tls-cert", client.Cert, "--tls-key", client.Key, "--tls-server-name", "localhost"}, true},
		{"no client cert", nil, []string{"--tls-ca", ca.File}, false},
		{"plaintext", nil, nil, false},
		{"system roots", nil, []string{"--tls"}, false},
		{"wrong server name", env, []string{"--tls-server-name", "astraguard.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return tc.env[k] }}
			err := c.run(t.Context(), append([]string{"breakers", "get", "model", "--addr", addr, "--timeout", "10s"}, tc.args...))
			if (err == nil) != tc.ok {
				t.Fatalf("breakers get %q = %v, want ok %v", tc.args, err, tc.ok)
			}
			if !tc.ok {
				return
			}
			if !strings.Contains(stdout.String(), "closed") {
				t.Errorf("output %q lacks the breaker state", stdout.String())
			}
			var want []string
			if slices.Contains(tc.args, "--token-file") {
				want = []string{"Bearer " + secretToken}
			}
			fa.mu.Lock()
			defer fa.mu.Unlock()
			if diff := cmp.Diff(want, fa.auth); diff != "" {
				t.Errorf("authorization metadata (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTokenFlagsBeatEnvironment: a --token or --token-file flag replaces
// whatever token the environment holds instead of clashing with it.
func TestTokenFlagsBeatEnvironment(t *testing.T) {
	const envToken, flagToken = "agctl-env-token-0b9d41", "agctl-flag-token-e52a7c"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(secretToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // the token sent; "" wants an error
	}{
		{"--token-file over AGCTL_TOKEN", map[string]string{"AGCTL_TOKEN": envToken}, []string{"--token-file", file}, secretToken},
		{"--token over AGCTL_TOKEN_FILE", map[string]string{"AGCTL_TOKEN_FILE": file}, []string{"--token", flagToken}, flagToken},
		{"--token over AGCTL_TOKEN", map[string]string{"AGCTL_TOKEN": envToken}, []string{"--token", flagToken}, flagToken},
		{"AGCTL_TOKEN alone", map[string]string{"AGCTL_TOKEN": envToken}, nil, envToken},
		{"both variables", map[string]string{"AGCTL_TOKEN": envToken, "AGCTL_TOKEN_FILE": file}, nil, ""},
		{"both flags", nil, []string{"--token", flagToken, "--token-file", file}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, fa, _ := newAdminCLI(t, tc.env)
			err := c.run(t.Context(), append([]string{"breakers", "get", "model", "--addr", testAddr}, tc.args...))
			if tc.want == "" {
				if exitCodeOf(err) != 2 {
					t.Errorf("breakers get %q with env %v = %v, want a usage error", tc.args, tc.env, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("breakers get %q with env %v = %v", tc.args, tc.env, err)
			}
			fa.mu.Lock()
			defer fa.mu.Unlock()
			if diff := cmp.Diff([]string{"Bearer " + tc.want}, fa.auth); diff != "" {
				t.Errorf("authorization metadata (-want +got):\n%s", diff)
			}
		})
	}
}
