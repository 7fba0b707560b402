package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testAddr is the bufconn target; newTestCLI's dialer ignores the address,
// which is loopback so that agctl agrees to send a token over plaintext.
const testAddr = "passthrough:///127.0.0.1:50051"

// newTestCLI serves what register adds on bufconn and returns a cli that
// dials it, with its stdout and stderr buffers. The server stops at cleanup.
func newTestCLI(t *testing.T, env map[string]string, register func(*grpc.Server)) (*cli, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	register(srv)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		// Stop before Serve started makes Serve return ErrServerStopped.
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("Serve: %v", err)
		}
	})
	var stdout, stderr bytes.Buffer
	c := &cli{
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) string { return env[k] },
		dialOpts: []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return lis.DialContext(ctx)
		})},
	}
	return c, &stdout, &stderr
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want int // exit code
	}{
		{nil, 2},
		{[]string{"frobnicate"}, 2},
		{[]string{"help"}, 0},
		{[]string{"help", "replay"}, 0},
		{[]string{"--addr", "127.0.0.1:1", "help", "breakers"}, 0},
		{[]string{"--addr", "127.0.0.1:1", "version"}, 0},
		{[]string{"help", "breakers"}, 0},
		{[]string{"replay", "-h"}, 0},
		{[]string{"replay", "--data", "x"}, 2},
		{[]string{"replay", "--data", "x", "--out", "x/y"}, 2},
		{[]string{"replay", "--bogus"}, 2},
		{[]string{"breakers"}, 2},
		{[]string{"breakers", "get"}, 2},
		{[]string{"breakers", "force", "model", "open"}, 2},
		{[]string{"breakers", "force", "model", "sideways", "--reason", "r", "--ttl", "1h"}, 2},
		{[]string{"breakers", "list", "-o", "yaml"}, 2},
		// Absurd values are usage errors, not a crash or a silent default:
		// a window of 100,000,000 allocated two channels of that size and
		// ran agctl out of memory, --speed NaN paced nothing, and a
		// negative --timeout meant no deadline at all.
		{[]string{"replay", "--data", "x", "--out", "y", "--window", "100000000"}, 2},
		{[]string{"replay", "--data", "x", "--out", "y", "--window", "1025"}, 2},
		{[]string{"replay", "--data", "x", "--out", "y", "--speed", "NaN"}, 2},
		{[]string{"replay", "--data", "x", "--out", "y", "--speed", "+Inf"}, 2},
		{[]string{"replay", "--data", "x", "--out", "y", "--timeout", "-1s"}, 2},
		{[]string{"breakers", "list", "--addr", "127.0.0.1:1", "--timeout", "-1s"}, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, &stdout, &stderr)
			if got := exitCodeOf(err); got != tt.want {
				t.Errorf("run(%q) = %v (exit %d), want exit %d", tt.args, err, got, tt.want)
			}
		})
	}
}

func exitCodeOf(err error) int {
	var sink bytes.Buffer
	if err == nil {
		return 0
	}
	return exitCode(err, &sink)
}

func TestExitCode(t *testing.T) {
	var w bytes.Buffer
	if got := exitCode(errors.New("boom"), &w); got != 1 || !strings.Contains(w.String(), "agctl: boom") {
		t.Errorf("exitCode(boom) = %d, %q; want 1, agctl: boom", got, w.String())
	}
}
