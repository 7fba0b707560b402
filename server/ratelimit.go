package server

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc/peer"

	"github.com/astraguard/astraguard/internal/connlimit"
)

// ClientKeyFunc names the client a request comes from, for the per-client
// rate limit. The default, PeerIP, keys by the peer's IP address; a
// deployment with mTLS may key by the certificate's identity instead.
type ClientKeyFunc func(ctx context.Context) string

// PeerIP returns the IP address of the RPC's peer, without the port, so
// all connections of one host share one budget. An IPv6 peer is keyed by
// its /64 prefix, e.g. "2001:db8:1:2::/64": a host is usually given a
// whole /64, and keying by address would let it take a fresh budget per
// address and push other clients out of the limiter's memory. An
// IPv4-mapped IPv6 address counts as its IPv4 address. PeerIP returns
// "unknown" when the context carries no peer.
func PeerIP(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "unknown"
	}
	return AddrKey(p.Addr.String())
}

// AddrKey is PeerIP for a peer address "host:port", as an HTTP request's
// RemoteAddr: the IP, an IPv6 peer by its /64; an address that is not
// host:port (a unix socket, an in-memory pipe) as it is.
func AddrKey(addr string) string { return connlimit.AddrKey(addr) }

// clientLimiter is a token bucket of samples per client. Clients live in an
// LRU map of at most max entries, so many clients cannot grow memory
// without bound. A client idle long enough to refill its bucket is dropped
// first: a new bucket for it is full, so forgetting it costs nothing. Only
// when more than max clients are active at once does eviction hand an
// evicted client a fresh burst.
type clientLimiter struct {
	limit rate.Limit
	burst int
	wait  time.Duration
	max   int
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	lru   *list.List               // of *clientBucket, most recent first; guarded by mu
	byKey map[string]*list.Element // guarded by mu
}

type clientBucket struct {
	key  string
	lim  *rate.Limiter
	used time.Time // last request
}

// newClientLimiter returns nil, meaning no limit, when perSecond is 0.
// burst defaults to one second's worth of samples.
func newClientLimiter(perSecond float64, burst int, wait time.Duration, max int) *clientLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = int(min(math.Ceil(perSecond), math.MaxInt32))
	}
	return &clientLimiter{
		limit: rate.Limit(perSecond), burst: burst, wait: wait, max: max,
		now: time.Now, sleep: sleepCtx,
		lru: list.New(), byKey: make(map[string]*list.Element),
	}
}

// take spends n samples of client's budget. When the budget is short it
// waits up to the configured bound, which stops the caller reading and so
// slows the client through flow control; a request that would need longer,
// or that is larger than the burst, gets a LimitError. Every request costs
// at least one sample, so empty requests are not free.
func (l *clientLimiter) take(ctx context.Context, client string, n int) error {
	if l == nil {
		return nil
	}
	n = max(n, 1)
	if n > l.burst {
		return &LimitError{Limit: LimitRate, Detail: fmt.Sprintf(
			"client %s sent %d samples in one request, more than the burst of %d", client, n, l.burst)}
	}
	now := l.now()
	r := l.bucket(client, now).ReserveN(now, n)
	d := r.DelayFrom(now)
	if d == 0 {
		return nil
	}
	if d > l.wait {
		r.CancelAt(now)
		return &LimitError{Limit: LimitRate, Detail: fmt.Sprintf(
			"client %s exceeded %g samples/s (burst %d)", client, float64(l.limit), l.burst)}
	}
	if err := l.sleep(ctx, d); err != nil {
		r.CancelAt(l.now())
		return err
	}
	return nil
}

// bucket returns client's limiter, creating it and evicting the least
// recently used client as needed.
func (l *clientLimiter) bucket(client string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byKey[client]; ok {
		b := e.Value.(*clientBucket)
		b.used = now
		l.lru.MoveToFront(e)
		return b.lim
	}
	// Clamped: a float beyond int64 would convert to a negative duration.
	refill := time.Duration(min(float64(l.burst)/float64(l.limit)*float64(time.Second), math.MaxInt64/2))
	for back := l.lru.Back(); back != nil; back = l.lru.Back() {
		b := back.Value.(*clientBucket)
		if l.lru.Len() < l.max && now.Sub(b.used) < refill {
			break
		}
		l.lru.Remove(back)
		delete(l.byKey, b.key)
	}
	b := &clientBucket{key: client, lim: rate.NewLimiter(l.limit, l.burst), used: now}
	l.byKey[client] = l.lru.PushFront(b)
	return b.lim
}

// clients reports how many clients the limiter tracks.
func (l *clientLimiter) clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
