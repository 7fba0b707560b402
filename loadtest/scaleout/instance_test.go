package scaleout

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildService builds cmd/astraguard into a temporary directory, unless
// SCALEOUT_SERVICE_BIN names a binary to run instead (one built with
// -race, say, or while the tree does not build; a relative path is from
// this directory).
func buildService(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SCALEOUT_SERVICE_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatalf("SCALEOUT_SERVICE_BIN: %v", err)
		}
		return abs
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the service: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "astraguard")
	out, err := exec.CommandContext(t.Context(), gobin, "build", "-o", bin, "github.com/astraguard/astraguard/cmd/astraguard").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/astraguard: %v\n%s", err, out)
	}
	return bin
}

// instance is one running astraguard process.
type instance struct {
	name     string
	cmd      *exec.Cmd
	grpcAddr string
	httpAddr string
	logDone  chan struct{} // stderr fully read: the process has exited

	mu  sync.Mutex
	log strings.Builder
}

// serving is the fields read off the service's "serving" log line.
type serving struct {
	Msg      string `json:"msg"`
	GRPCAddr string `json:"grpc_addr"`
	HTTPAddr string `json:"http_addr"`
}

// startInstance starts the service on ephemeral loopback ports and waits
// for its "serving" line, which names the ports it got; so no port is
// picked first and raced for.
func startInstance(t *testing.T, bin, name string, extra ...string) *instance {
	t.Helper()
	in := &instance{name: name, logDone: make(chan struct{})}
	in.cmd = exec.Command(bin, append([]string{"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0",
		"--log-format=json", "--log-level=info", "--grace-period=1s"}, extra...)...)
	in.cmd.Env = withoutServiceEnv(os.Environ())
	stderr, err := in.cmd.StderrPipe()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := in.cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	ready := make(chan serving, 1)
	go in.readLog(stderr, ready)
	t.Cleanup(func() {
		_ = in.cmd.Process.Kill()
		<-in.logDone
		_ = in.cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", in.name, in.logText())
		}
	})
	select {
	case s := <-ready:
		in.grpcAddr, in.httpAddr = s.GRPCAddr, s.HTTPAddr
	case <-in.logDone:
		t.Fatalf("%s exited before serving:\n%s", name, in.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not serving after 30s:\n%s", name, in.logText())
	}
	return in
}

// readLog keeps the process's stderr and hands the "serving" line over.
func (in *instance) readLog(r io.Reader, ready chan<- serving) {
	defer close(in.logDone)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		in.mu.Lock()
		in.log.Write(line)
		in.log.WriteByte('\n')
		in.mu.Unlock()
		var s serving
		if !sent && json.Unmarshal(line, &s) == nil && s.Msg == "serving" && s.GRPCAddr != "" && s.HTTPAddr != "" {
			ready <- s
			sent = true
		}
	}
	_, _ = io.Copy(io.Discard, r) // a line over the buffer: keep the pipe drained
}

func (in *instance) logText() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.log.String()
}

// freeze stops the process without closing anything, as a hung host:
// its connections stay open and what is sent to it goes unanswered.
func (in *instance) freeze(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("%s: stop: %v", in.name, err)
	}
}

// terminate asks the process to shut down, as an orchestrator does.
func (in *instance) terminate(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("%s: terminate: %v", in.name, err)
	}
}

// kill stops the process at once, as a crash or an OOM kill would: no
// drain, no goodbye to open streams.
// It returns once the process is gone; it may run off the test's
// goroutine, so it reports rather than fails.
func (in *instance) kill() error {
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("%s: kill: %w", in.name, err)
	}
	<-in.logDone
	return nil
}

// withoutServiceEnv drops ASTRAGUARD_* settings, so the flags given are
// the whole configuration.
func withoutServiceEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "ASTRAGUARD_") {
			out = append(out, kv)
		}
	}
	return out
}
