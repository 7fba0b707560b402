package harness

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// servingLine is the part of a "serving" log line the harness needs.
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
	}
	s.lines = append(s.lines, line)
}

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

// text returns the last n kept lines (0: all of them).
func (s *logSink) text(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := 0
	if n > 0 {
		from = max(0, len(s.lines)-n)
	}
	return strings.Join(s.lines[from:], "\n")
}
