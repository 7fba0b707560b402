// Package testkit holds the small helpers the packages' tests share: a
// log sink safe for concurrent writers, serving a gRPC server on bufconn
// or a loopback port until the test ends, putting raw wire on a gRPC
// connection (RawCodec, EmptyRepeated), and checking the generated
// sections of a document. Imported by tests only.
// No API stability promise.
package testkit

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// SyncBuffer is a log sink safe for concurrent writes; a reader can wait
// for the next write through Changed. The zero value is ready to use.
type SyncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	wake chan struct{} // closed by the next Write; nil until Changed asks
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wake != nil {
		close(s.wake)
		s.wake = nil
	}
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Changed is closed by the next Write. Take it before reading String, so
// that no write falls between the read and the wait.
func (s *SyncBuffer) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wake == nil {
		s.wake = make(chan struct{})
	}
	return s.wake
}

// Server is what the Serve helpers run: a *grpc.Server, or anything that
// serves a listener until Stop.
type Server interface {
	Serve(net.Listener) error
	Stop()
}

// ServeBufconn serves srv on an in-memory listener and returns a client
// connection to it, with dial added to its options. Both are closed when
// the test ends; an error from Serve fails the test.
func ServeBufconn(t testing.TB, srv Server, dial ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	serve(t, srv, lis)
	conn, err := grpc.NewClient("passthrough:///bufnet", append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, dial...)...)
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// ServeLoopback serves srv on a 127.0.0.1 port and returns its address;
// stop ends it early, and is also called when the test ends.
func ServeLoopback(t testing.TB, srv Server) (addr string, stop func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen() = %v", err)
	}
	return lis.Addr().String(), serve(t, srv, lis)
}

func serve(t testing.TB, srv Server, lis net.Listener) (stop func()) {
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			srv.Stop()
			// Stop before Serve started makes Serve return ErrServerStopped.
			if err := <-done; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				t.Errorf("Serve() = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
