// Package harness is the one harness for tests that run the real
// binaries (cmd/astraguard, cmd/astraguard-model) as processes on
// loopback: the restart, chaos and scale-out suites, and the test-only
// modules (deploy/, test/browser/) that check dashboards, rules and the
// breaker page against what the service really does. It builds each
// command once per test binary from the main module's work tree (the
// test-only modules replace the main module with it), starts it with
// flags on kernel-chosen ports, waits for its "serving" log line (which
// names the addresses it got, so no port is picked first and raced for),
// and stops, kills or freezes it. Imported by tests only. No API
// stability promise.
package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds how long a binary may take to log "serving".
const StartTimeout = 60 * time.Second

var (
	buildMu  sync.Mutex
	buildDir string            // guarded by buildMu: removed by Main
	built    map[string]string // guarded by buildMu: command name -> path
)

// Build builds the named commands of the main module (as "astraguard",
// "astraguard-model") without -race, the ones not built yet in one go
// build, and returns their paths in order. The suites check behaviour;
// instrumented binaries would only be slower and skew what they measure.
func Build(names ...string) ([]string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	var pkgs []string
	for _, n := range names {
		if _, ok := built[n]; !ok {
			pkgs = append(pkgs, "./cmd/"+n)
		}
	}
	if len(pkgs) > 0 {
		if buildDir == "" {
			dir, err := os.MkdirTemp("", "astraguard-bin-")
			if err != nil {
				return nil, err
			}
			buildDir, built = dir, map[string]string{}
		}
		root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/astraguard/astraguard").Output()
		if err != nil {
			return nil, fmt.Errorf("locate the main module: %w", err)
		}
		args := append([]string{"build", "-C", strings.TrimSpace(string(root)), "-o", buildDir + string(filepath.Separator)}, pkgs...)
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
		}
		for _, p := range pkgs {
			n := filepath.Base(p)
			built[n] = filepath.Join(buildDir, n)
		}
	}
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = built[n]
	}
	return paths, nil
}

// Binary is Build of one command for a test, which fails if it cannot.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p, err := Build(name)
	if err != nil {
		t.Fatal(err)
	}
	return p[0]
}

// Main runs m's tests and removes what Build built; call it from TestMain.
// The commands named in prebuild are built first, so a build failure is
// reported once, before any test, and no test's time includes the build.
func Main(m interface{ Run() int }, prebuild ...string) int {
	defer func() {
		buildMu.Lock()
		defer buildMu.Unlock()
		if buildDir != "" {
			_ = os.RemoveAll(buildDir)
		}
	}()
	if _, err := Build(prebuild...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// Suite is Main as a value, for goleak.VerifyTestMain(Suite{M: m, ...}).
type Suite struct {
	M        interface{ Run() int }
	Prebuild []string
}

// Run is Main(s.M, s.Prebuild...).
func (s Suite) Run() int { return Main(s.M, s.Prebuild...) }

// Service is the process Start runs.
type Service = Process

// Start runs cmd/astraguard with args and JSON logs, and stops it with
// SIGTERM (then SIGKILL after 15s) when t ends.
func Start(t testing.TB, args ...string) *Service {
	t.Helper()
	p := Run(t, Binary(t, "astraguard"), "astraguard", append([]string{"--log-format=json"}, args...)...)
	t.Cleanup(func() { _ = p.Stop(15 * time.Second) })
	return p
}

// Run is Launch for a test: it fails t if the process does not serve,
// kills it when t ends and logs what it wrote if t failed.
func Run(t testing.TB, bin, name string, args ...string) *Process {
	t.Helper()
	p, err := Launch(bin, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Kill()
		if t.Failed() {
			t.Logf("%s log:\n%s", p.Name, p.Log())
		}
	})
	return p
}

// Process is one running binary. What it writes to stdout and stderr is
// kept (the newest lines, bounded) for failure reports.
type Process struct {
	Name               string
	GRPCAddr, HTTPAddr string // from its "serving" line

	cmd     *exec.Cmd
	log     *logSink
	exited  chan struct{} // closed once Wait returned
	waitErr error         // set before exited is closed
}

// Launch runs bin with args after "--grpc-addr=127.0.0.1:0
// --http-addr=127.0.0.1:0" (a later flag wins, so args may name fixed
// addresses), in an environment without ASTRAGUARD_* variables (the flags
// are the whole configuration), and waits up to StartTimeout for its
// "serving" log line. A process that exits or does not serve in time is
// reported, with its log, and killed.
func Launch(bin, name string, args ...string) (*Process, error) {
	p := &Process{Name: name, log: newLogSink(), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0"}, args...)...)
	p.cmd.Env = withoutServiceEnv(os.Environ())
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	select {
	case s := <-p.log.serving:
		p.GRPCAddr, p.HTTPAddr = s.GRPCAddr, s.HTTPAddr
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s exited before serving: %v\n%s", name, p.waitErr, p.Tail())
	case <-time.After(StartTimeout):
		_ = p.Kill()
		return nil, fmt.Errorf("%s did not log \"serving\" within %v\n%s", name, StartTimeout, p.Tail())
	}
}

// withoutServiceEnv drops ASTRAGUARD_* settings a developer's shell may set.
func withoutServiceEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "ASTRAGUARD_") {
			out = append(out, kv)
		}
	}
	return out
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited; Err then tells how.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is the process's exit error, once Exited is closed.
func (p *Process) Err() error {
	<-p.exited
	return p.waitErr
}

// Stop asks for a graceful shutdown (SIGTERM) and kills the process if it
// outlives grace. It reports an exit that was not clean, and a process
// that had exited already.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s had already exited: %v", p.Name, p.waitErr)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.waitErr != nil {
			return fmt.Errorf("%s exit after SIGTERM: %w\n%s", p.Name, p.waitErr, p.Tail())
		}
		return nil
	case <-time.After(grace):
		_ = p.Kill()
		return fmt.Errorf("%s still running %v after SIGTERM; killed", p.Name, grace)
	}
}

// Kill sends SIGKILL, as a crash or an OOM kill would (no drain, no
// goodbye to open streams), and returns once the process is gone. It may
// run off the test's goroutine, so it reports rather than fails.
func (p *Process) Kill() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("%s: kill: %w", p.Name, err)
	}
	<-p.exited
	return nil
}

// Terminate sends SIGTERM, as an orchestrator does, and does not wait.
func (p *Process) Terminate(t testing.TB) { p.signal(t, syscall.SIGTERM) }

// Freeze stops the process with SIGSTOP without closing anything, as a
// hung host: its connections stay open and what is sent to it goes
// unanswered. Thaw resumes it.
func (p *Process) Freeze(t testing.TB) { p.signal(t, syscall.SIGSTOP) }

// Thaw resumes a frozen process with SIGCONT.
func (p *Process) Thaw(t testing.TB) { p.signal(t, syscall.SIGCONT) }

func (p *Process) signal(t testing.TB, s syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(s); err != nil {
		t.Fatalf("%s: %v: %v", p.Name, s, err)
	}
}

// Log returns the kept log lines.
func (p *Process) Log() string { return p.log.text(0) }

// Tail returns the last 40 log lines, for failure messages.
func (p *Process) Tail() string { return p.log.text(40) }

// Count returns how many kept log lines contain substr.
func (p *Process) Count(substr string) int { return p.log.count(substr) }

// Scrape returns the process's /metrics exposition in the text format.
func (p *Process) Scrape(t testing.TB) string {
	t.Helper()
	b, err := ScrapeMetrics(context.Background(), p.HTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
