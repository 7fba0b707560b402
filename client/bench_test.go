package client

import (
	"context"
	"testing"
	"time"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// BenchmarkPipelined measures one request's cost through the client
// (partition goroutine, receiver, done channel) against a raw Detect
// stream to the same loopback echo, both with 32 requests in flight on
// one stream: the difference is the client's overhead per request.
func BenchmarkPipelined(b *testing.B) {
	addr, _ := serve(b, &echo{})
	const window = 32
	b.Run("client", func(b *testing.B) {
		c, err := New(addr, Config{MaxPending: window})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		ctx := context.Background()
		done := make(chan *Call, window)
		inflight := 0
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if inflight == window {
				if call := <-done; call.Err != nil {
					b.Fatal(call.Err)
				}
				inflight--
			}
			if _, err := c.Go(ctx, req("k", int64(i), 1), done); err != nil {
				b.Fatal(err)
			}
			inflight++
		}
		for ; inflight > 0; inflight-- {
			<-done
		}
	})
	b.Run("raw-stream", func(b *testing.B) {
		c, err := New(addr, Config{}) // only for its connection
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := astraguardv1.NewDetectorServiceClient(c.Conn()).Detect(ctx)
		if err != nil {
			b.Fatal(err)
		}
		recvd := make(chan error, 1)
		slots := make(chan struct{}, window)
		go func() {
			for {
				if _, err := s.Recv(); err != nil {
					recvd <- err
					return
				}
				<-slots
			}
		}()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			slots <- struct{}{}
			r := req("k", int64(i), 1)
			r.RequestId = "r"
			if err := s.Send(r); err != nil {
				b.Fatal(err)
			}
		}
		for range window {
			slots <- struct{}{}
		}
		_ = s.CloseSend()
		<-recvd
	})
}
