// Package servicetest builds the real astraguard binary and runs it on
// loopback for tests in the test-only modules (deploy/, test/browser/),
// so dashboards, rules and the breaker page are checked against what the
// service really does, not a copy. Those modules replace the main module
// with the work tree, so the binary is built from it. Imported by tests
// only. No API stability promise.
package servicetest

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
	"strings"
	"sync"
	"testing"
	"time"
)

// Service is a running astraguard process.
type Service struct {
	GRPCAddr, HTTPAddr string
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// Binary builds cmd/astraguard once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "astraguard-deploy-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		binPath = filepath.Join(dir, "astraguard")
		// Build in the main module (the replace target), with its go.mod.
		root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/astraguard/astraguard").Output()
		if err != nil {
			buildErr = fmt.Errorf("locate the main module: %w", err)
			return
		}
		out, err := exec.Command("go", "build", "-C", strings.TrimSpace(string(root)), "-o", binPath, "./cmd/astraguard").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build cmd/astraguard: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Start runs the service with args on 127.0.0.1 ports chosen by the
// kernel and waits for its "serving" log line. The process is stopped
// with SIGTERM and waited for in t.Cleanup.
func Start(t testing.TB, args ...string) *Service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, Binary(t), append([]string{"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--log-format=json"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(interruptSignal) }
	cmd.WaitDelay = 15 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan *Service, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg      string `json:"msg"`
				GRPCAddr string `json:"grpc_addr"`
				HTTPAddr string `json:"http_addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				served <- &Service{GRPCAddr: line.GRPCAddr, HTTPAddr: line.HTTPAddr}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		<-logDone
	})
	select {
	case s := <-served:
		return s
	case <-time.After(30 * time.Second):
		t.Fatal("astraguard did not log \"serving\" within 30s")
	}
	return nil
}

// Scrape returns the service's /metrics exposition in the text format.
func (s *Service) Scrape(t testing.TB) string {
	t.Helper()
	resp, err := http.Get("http://" + s.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s, %v", resp.Status, err)
	}
	return string(b)
}

// Main runs the tests and removes the built binary; call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	return code
}
