package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// EncodeKey is the HashHeader value of a partition key: the key itself,
// with every byte outside printable ASCII (below 0x20 or above 0x7e) and
// every '%' written as %XX (upper-case hex), since gRPC metadata values
// must be printable ASCII. Other clients must encode alike to share the
// placement of Go clients.
func EncodeKey(key string) string {
	plain := true
	for i := range len(key) {
		if b := key[i]; b < 0x20 || b > 0x7e || b == '%' {
			plain = false
			break
		}
	}
	if plain {
		return key
	}
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for i := range len(key) {
		b := key[i]
		if b < 0x20 || b > 0x7e || b == '%' {
			sb.Write([]byte{'%', hex[b>>4], hex[b&15]})
			continue
		}
		sb.WriteByte(b)
	}
	return sb.String()
}

type streamEnd struct {
	answered bool
	err      error
}

// stream runs one Detect stream: it (re-)sends every pending call in
// order, then new ones as they come, until the stream fails, the client
// closes, or it is closed on purpose (a rotation, or idle), which returns
// a nil error once every call sent on it is answered.
func (p *partition) stream(reopen bool) (answered bool, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Close cancels the stream even while Detect waits for a replica.
	p.c.wg.Go(func() {
		select {
		case <-p.c.closed:
			cancel()
		case <-ctx.Done():
		}
	})
	mdCtx := metadata.AppendToOutgoingContext(ctx, HashHeader, EncodeKey(p.key))
	p.unsent()
	s, err := p.c.api.Detect(mdCtx)
	if err != nil {
		return false, err
	}
	replica := peerOf(s.Context())
	p.c.m.streamOpened(replica, reopen)
	recv := make(chan streamEnd, 1)
	go func() { recv <- p.receive(s, replica) }()
	idle := time.NewTimer(p.c.cfg.IdleTimeout)
	defer idle.Stop()
	closing := false
	for {
		if !closing {
			call, resent, rotate := p.next()
			if call != nil {
				if resent {
					p.c.m.resentCall(replica, call.samples)
				}
				if s.Send(call.Request) != nil {
					closing = true // the stream ended: the receiver tells why
				}
				continue
			}
			if rotate {
				_ = s.CloseSend() // an error here is the stream's, seen by the receiver
				closing = true
			}
		}
		select {
		case e := <-recv:
			return e.answered, e.err
		case <-p.wake:
		case <-p.c.closed:
			e := <-recv // the watcher cancelled the stream
			return e.answered, ErrClosed
		case <-idle.C:
			if !closing && p.pendingLen() == 0 {
				_ = s.CloseSend()
				closing = true
			}
			idle.Reset(p.c.cfg.IdleTimeout)
		}
	}
}

// receive matches responses to pending calls until the stream ends.
func (p *partition) receive(s astraguardv1.DetectorService_DetectClient, replica string) streamEnd {
	answered := false
	for {
		resp, err := s.Recv()
		if errors.Is(err, io.EOF) {
			p.mu.Lock()
			left := p.sent
			p.mu.Unlock()
			if left > 0 {
				return streamEnd{answered, fmt.Errorf("%w: %d", errUnanswered, left)}
			}
			return streamEnd{answered, nil}
		}
		if err != nil {
			return streamEnd{answered, err}
		}
		call, ok := p.take(resp.GetRequestId())
		if ok {
			call.Response = resp
		}
		if p.ack(call, ok, replica) {
			answered = true
		}
	}
}

// peerOf is the replica a stream runs on, for metrics and Call.Replica.
func peerOf(ctx context.Context) string {
	if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
		return pr.Addr.String()
	}
	return "unknown"
}
