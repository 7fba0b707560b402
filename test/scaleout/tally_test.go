package scaleout

import (
	"context"
	"github.com/astraguard/astraguard/test/harness"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
)

// tally is a stream client interceptor that counts the Detect requests
// the client starts to send to each backend, so the test can tell when a
// request went to a backend after that backend stopped.
type tally struct {
	mu    sync.Mutex
	sends map[string]int64 // guarded by mu; by backend address
	wake  chan struct{}    // guarded by mu; closed at the next send
}

func (tl *tally) intercept(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	var addr string
	if p, ok := peer.FromContext(s.Context()); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	return &tallyStream{ClientStream: s, tl: tl, addr: addr}, nil
}

// sent counts a send to addr before it starts: a count taken after a
// backend stopped covers only requests that reached it stopped.
func (tl *tally) sent(addr string) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.sends == nil {
		tl.sends = map[string]int64{}
	}
	tl.sends[addr]++
	if tl.wake != nil {
		close(tl.wake)
		tl.wake = nil
	}
}

// sendsTo returns the sends to addr so far and a channel closed at the
// next send to any backend.
func (tl *tally) sendsTo(addr string) (int64, <-chan struct{}) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.wake == nil {
		tl.wake = make(chan struct{})
	}
	return tl.sends[addr], tl.wake
}

// waitSendTo waits, up to limit, for a send to addr beyond the first n,
// and reports whether one came.
func (tl *tally) waitSendTo(ctx context.Context, addr string, n int64, limit time.Duration) bool {
	timeout := time.After(limit)
	for {
		got, next := tl.sendsTo(addr)
		if got > n {
			return true
		}
		select {
		case <-next:
		case <-timeout:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

type tallyStream struct {
	grpc.ClientStream
	tl   *tally
	addr string
}

func (s *tallyStream) SendMsg(m any) error {
	s.tl.sent(s.addr)
	return s.ClientStream.SendMsg(m)
}

// waitStopped waits, up to 10s, until every thread of the stopped process
// shows state T in /proc: from then on it reads and answers nothing.
func waitStopped(t *testing.T, in *harness.Process) {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(in.Pid()), "task")
	deadline := time.After(10 * time.Second)
	for {
		if allStopped(dir) {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("%s: threads not all stopped after 10s", in.Name)
		case <-time.After(time.Millisecond):
		}
	}
}

func allStopped(taskDir string) bool {
	tasks, err := os.ReadDir(taskDir)
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join(taskDir, task.Name(), "stat"))
		if err != nil {
			return false
		}
		// "pid (comm) S ...": the state follows the last ')', as comm
		// may hold any character.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			return false
		}
		if f := strings.Fields(s[i+1:]); len(f) == 0 || f[0] != "T" {
			return false
		}
	}
	return true
}
