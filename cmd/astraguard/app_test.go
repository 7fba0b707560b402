package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestNewAppLateFailureReleasesEverything makes newApp fail at its late
// steps, after the tracing, the remote model's client connection and (for
// the port clash) two listeners are open: the error names the step, no
// goroutine is left behind (the model client's are the telling ones) and
// the listeners' ports can be bound again.
func TestNewAppLateFailureReleasesEverything(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	busy := listenLoopback(t)
	defer busy.Close()
	for _, tc := range []struct {
		name, arg, want string
		freeAddrs       bool // grpc and http get known ports, checked free after the failure
	}{
		{name: "state dir", arg: "--state-dir=" + file, want: "--state-dir"},
		{name: "handover dir", arg: "--handover-dir=" + file, want: "--handover-dir"},
		{name: "port clash", arg: "--admin-addr=" + busy.Addr().String(), want: "admin listen", freeAddrs: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			// A model address nothing listens on: the client starts its
			// connection goroutines, the start-up check fails fast.
			model := listenLoopback(t)
			_ = model.Close()
			grpcAddr, httpAddr := "127.0.0.1:0", "127.0.0.1:0"
			if tc.freeAddrs {
				// Ports picked first, so they can be bound again below; if
				// another process takes one meanwhile the error names it.
				grpcAddr, httpAddr = freeAddr(t), freeAddr(t)
			}
			cfg, err := parseConfig([]string{"--grpc-addr=" + grpcAddr, "--http-addr=" + httpAddr,
				"--model-addr=" + model.Addr().String(), "--model-timeout=2s", tc.arg}, noEnv, io.Discard)
			if err != nil {
				t.Fatalf("parseConfig() error = %v", err)
			}
			a, err := newApp(t.Context(), cfg, io.Discard)
			if err == nil {
				a.close()
				t.Fatalf("newApp(%s) error = nil, want one", tc.arg)
			}
			if strings.Contains(err.Error(), "grpc listen") || strings.Contains(err.Error(), "http listen") {
				t.Skipf("a picked port was taken by another process: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("newApp(%s) error = %v, want one naming %q", tc.arg, err, tc.want)
			}
			goleak.VerifyNone(t, before)
			if tc.freeAddrs {
				for _, addr := range []string{grpcAddr, httpAddr} {
					l, err := net.Listen("tcp", addr)
					if err != nil {
						t.Errorf("%s still bound after newApp failed: %v", addr, err)
						continue
					}
					_ = l.Close()
				}
			}
		})
	}
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l := listenLoopback(t)
	defer l.Close()
	return l.Addr().String()
}
