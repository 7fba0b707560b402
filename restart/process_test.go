package restart

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(withBinaries{m}) }

// bins are the binaries TestMain built for this run.
var bins struct{ service, model string }

type withBinaries struct{ m *testing.M }

// Run builds both commands once, without -race: the tests check
// behaviour, and instrumented binaries would only be slower.
func (w withBinaries) Run() int {
	dir, err := os.MkdirTemp("", "astraguard-restart-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "restart:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/astraguard", "./cmd/astraguard-model")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "restart: go build: %v\n%s", err, out)
		return 1
	}
	bins.service, bins.model = filepath.Join(dir, "astraguard"), filepath.Join(dir, "astraguard-model")
	return w.m.Run()
}

// proc is one running binary.
type proc struct {
	t        *testing.T
	name     string
	cmd      *exec.Cmd
	grpcAddr string
	httpAddr string
	logDone  chan struct{}
	waited   chan struct{}
	waitErr  error

	mu  sync.Mutex
	log strings.Builder
}

// start runs bin on ephemeral loopback ports with args and waits for its
// "serving" line, which names the ports it got.
func start(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, logDone: make(chan struct{}), waited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0"}, args...)...)
	p.cmd.Env = cleanEnv()
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	ready := make(chan [2]string, 1)
	go p.readLog(stderr, ready)
	go func() { <-p.logDone; p.waitErr = p.cmd.Wait(); close(p.waited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.waited
		if t.Failed() {
			t.Logf("%s log:\n%s", p.name, p.logText())
		}
	})
	select {
	case a := <-ready:
		p.grpcAddr, p.httpAddr = a[0], a[1]
	case <-p.waited:
		t.Fatalf("%s exited before serving: %v\n%s", name, p.waitErr, p.logText())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not serving after 60s:\n%s", name, p.logText())
	}
	return p
}

// cleanEnv drops ASTRAGUARD_* variables a developer's shell may set.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ASTRAGUARD_") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *proc) readLog(r io.Reader, ready chan<- [2]string) {
	defer close(p.logDone)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		p.mu.Lock()
		p.log.Write(line)
		p.log.WriteByte('\n')
		p.mu.Unlock()
		var s struct {
			Msg      string `json:"msg"`
			GRPCAddr string `json:"grpc_addr"`
			HTTPAddr string `json:"http_addr"`
		}
		if !sent && json.Unmarshal(line, &s) == nil && s.Msg == "serving" && s.GRPCAddr != "" {
			ready <- [2]string{s.GRPCAddr, s.HTTPAddr}
			sent = true
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.waited:
		if p.waitErr != nil {
			p.t.Fatalf("%s exit after SIGTERM: %v\n%s", p.name, p.waitErr, p.logText())
		}
	case <-time.After(60 * time.Second):
		p.t.Fatalf("%s still running 60s after SIGTERM", p.name)
	}
}

// kill sends SIGKILL: no drain, no final checkpoint.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.waited
}

// conn dials the gRPC port.
func (p *proc) conn() *grpc.ClientConn {
	p.t.Helper()
	c, err := grpc.NewClient("passthrough:///"+p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = c.Close() })
	return c
}

// metric returns the value of the sample whose name and labels read
// exactly series (e.g. `astraguard_state_restore_errors_total{reason="corrupt"}`),
// or -1 when there is none.
func (p *proc) metric(ctx context.Context, series string) float64 {
	p.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.httpAddr+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s: GET /metrics: %v", p.name, err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				p.t.Fatalf("%s: %s = %q", p.name, series, v)
			}
			return f
		}
	}
	return -1
}

// waitMetric polls until metric series exceeds after.
func (p *proc) waitMetric(ctx context.Context, series string, after float64) float64 {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if v := p.metric(ctx, series); v > after {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("%s: %s did not exceed %v within 60s", p.name, series, after)
	return 0
}
