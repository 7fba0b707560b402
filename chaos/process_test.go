package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// startTimeout bounds how long a binary may take to log "serving".
const startTimeout = 30 * time.Second

// process is one running binary. Its JSON log lines on stderr are parsed
// for the "serving" line (which carries the listen addresses, so ports can
// be :0) and kept for the failure report.
type process struct {
	name     string
	cmd      *exec.Cmd
	log      *logSink
	grpcAddr string
	httpAddr string
	exited   chan struct{} // closed once Wait returned
	waitErr  error
}

// startProcess runs bin with args and waits for its "serving" log line.
func startProcess(name, bin string, args ...string) (*process, error) {
	p := &process{name: name, log: newLogSink(), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stderr = p.log
	p.cmd.Stdout = p.log
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	select {
	case line := <-p.log.serving:
		p.grpcAddr, p.httpAddr = line.GRPCAddr, line.HTTPAddr
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s exited before serving: %v\n%s", name, p.waitErr, p.log.tail())
	case <-time.After(startTimeout):
		p.kill()
		return nil, fmt.Errorf("%s did not log \"serving\" within %v\n%s", name, startTimeout, p.log.tail())
	}
}

// kill sends SIGKILL (the crash case: no drain, no goodbye) and waits.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop asks for a graceful shutdown and kills the process if it outlives
// grace. It reports an exit that was not clean.
func (p *process) stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s had already exited: %v", p.name, p.waitErr)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.waitErr != nil {
			return fmt.Errorf("%s exit after SIGTERM: %w", p.name, p.waitErr)
		}
		return nil
	case <-time.After(grace):
		p.kill()
		return fmt.Errorf("%s still running %v after SIGTERM; killed", p.name, grace)
	}
}

// servingLine is the part of a "serving" log line the suite needs.
type servingLine struct {
	Msg      string `json:"msg"`
	GRPCAddr string `json:"grpc_addr"`
	HTTPAddr string `json:"http_addr"`
}

// logSink is the io.Writer behind a process's stdout and stderr. It keeps
// the log lines (bounded) and reports the first "serving" line.
type logSink struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	dropped int
	seen    bool
	serving chan servingLine
}

// maxLogLines bounds what a sink keeps; the newest lines win because they
// explain a failure best.
const maxLogLines = 4000

func newLogSink() *logSink { return &logSink{serving: make(chan servingLine, 1)} }

func (s *logSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, b...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		line := string(s.partial[:i])
		s.partial = s.partial[i+1:]
		s.add(line)
	}
	return len(b), nil
}

func (s *logSink) add(line string) {
	if !s.seen && strings.Contains(line, `"serving"`) {
		var l servingLine
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "serving" && l.GRPCAddr != "" {
			s.seen = true
			s.serving <- l
		}
	}
	if len(s.lines) == maxLogLines {
		s.lines = s.lines[1:]
		s.dropped++
	}
	s.lines = append(s.lines, line)
}

// count returns how many kept lines contain substr.
func (s *logSink) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.lines {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// tail returns the last lines, for failure messages.
func (s *logSink) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := max(0, len(s.lines)-40)
	return strings.Join(s.lines[from:], "\n")
}
