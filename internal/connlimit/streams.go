package connlimit

import (
	"context"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Bounds of the streams StreamBound applies to by default: the health
// service's Watch and reflection's ServerReflectionInfo, open to every
// client that can connect, and any streaming method without a budget of
// its own. Each open stream holds a goroutine and the transport's state,
// about 14 KB; unbounded, one client could hold DefaultMaxConcurrentStreams
// of them on each of its connections (1024 x 2500 by default: tens of GB).
const (
	// MaxOtherStreams bounds them over all clients: about 56 MB.
	MaxOtherStreams = 4096
	// MaxOtherStreamsPerClient bounds those of one client; client-side
	// health checking opens one per connection.
	MaxOtherStreamsPerClient = 64
	// LimitOtherStreams names the limit in a refusal.
	LimitOtherStreams = "open streams of other methods"
)

// StreamBound bounds the open streams of every method but Exempt, in
// total and per client. The zero value is valid: the defaults above,
// clients keyed by PeerKey.
type StreamBound struct {
	// Max and PerClient bound the streams; 0 means MaxOtherStreams and
	// MaxOtherStreamsPerClient.
	Max, PerClient int
	// Exempt lists full method names with bounds of their own.
	Exempt []string
	// Key names a stream's client; nil is PeerKey.
	Key func(ctx context.Context) string
	// OnRefuse, when set, is called once per refused stream (a metric).
	OnRefuse func()
}

// PeerKey is AddrKey of the RPC's peer address, "unknown" without one.
func PeerKey(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "unknown"
	}
	return AddrKey(p.Addr.String())
}

// StreamInterceptor returns the interceptor that applies b: a stream
// beyond a bound is refused with RESOURCE_EXHAUSTED naming
// LimitOtherStreams before its handler runs. One interceptor is one
// budget; give the same one to servers that share it.
func StreamInterceptor(b StreamBound) grpc.StreamServerInterceptor {
	if b.Max <= 0 {
		b.Max = MaxOtherStreams
	}
	if b.PerClient <= 0 {
		b.PerClient = MaxOtherStreamsPerClient
	}
	if b.Key == nil {
		b.Key = PeerKey
	}
	exempt := slices.Clone(b.Exempt)
	var (
		mu        sync.Mutex
		total     int
		perClient = make(map[string]int) // guarded by mu; no entries of 0
	)
	acquire := func(client string) error {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case total >= b.Max:
			return status.Errorf(codes.ResourceExhausted, "limit exceeded: %s: %d > %d", LimitOtherStreams, total+1, b.Max)
		case perClient[client] >= b.PerClient:
			return status.Errorf(codes.ResourceExhausted, "limit exceeded: %s: %d per client", LimitOtherStreams, b.PerClient)
		}
		total++
		perClient[client]++
		return nil
	}
	release := func(client string) {
		mu.Lock()
		defer mu.Unlock()
		total--
		if perClient[client]--; perClient[client] <= 0 {
			delete(perClient, client)
		}
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if slices.Contains(exempt, info.FullMethod) {
			return handler(srv, ss)
		}
		client := b.Key(ss.Context())
		if err := acquire(client); err != nil {
			if b.OnRefuse != nil {
				b.OnRefuse()
			}
			return err
		}
		defer release(client)
		return handler(srv, ss)
	}
}
