package client

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/resolver"
)

// watchBuilder wraps a resolver builder so the client learns when the
// replica set changes: it then moves the streams whose key the new ring
// maps elsewhere. For a DNS target it also re-resolves every interval,
// since gRPC's DNS resolver otherwise resolves again only after a
// connection fails, and a replica added behind a headless service breaks
// no connection.
type watchBuilder struct {
	resolver.Builder
	interval time.Duration // 0: no periodic re-resolution
	// changed is called after the channel took a changed set, with the
	// addresses that left it.
	changed func(removed []string)
}

func (b *watchBuilder) Build(t resolver.Target, cc resolver.ClientConn, opts resolver.BuildOptions) (resolver.Resolver, error) {
	w := &watchConn{ClientConn: cc, changed: b.changed}
	r, err := b.Builder.Build(t, w, opts)
	if err != nil {
		return nil, err
	}
	wr := &watchResolver{Resolver: r, stop: make(chan struct{})}
	if b.interval > 0 {
		wr.wg.Go(func() { wr.tick(b.interval) })
	}
	return wr, nil
}

// watchConn passes resolver updates on to the channel and reports a
// changed address set once the channel (so the ring) has it.
type watchConn struct {
	resolver.ClientConn
	changed func(removed []string)

	mu   sync.Mutex
	last []string // guarded by mu; sorted addresses of the last update
}

func (w *watchConn) UpdateState(s resolver.State) error {
	addrs := addrsOf(s)
	if sc := w.ClientConn.ParseServiceConfig(ringConfig(len(addrs))); sc.Err == nil {
		s.ServiceConfig = sc
	}
	err := w.ClientConn.UpdateState(s) // synchronous: the balancer has the new set on return
	w.mu.Lock()
	first, same := w.last == nil, slices.Equal(w.last, addrs)
	var removed []string
	for _, a := range w.last {
		if _, found := slices.BinarySearch(addrs, a); !found {
			removed = append(removed, a)
		}
	}
	w.last = addrs
	w.mu.Unlock()
	if !first && !same {
		w.changed(removed)
	}
	return err
}

func addrsOf(s resolver.State) []string {
	out := []string{}
	for _, e := range s.Endpoints {
		for _, a := range e.Addresses {
			out = append(out, a.Addr)
		}
	}
	for _, a := range s.Addresses {
		out = append(out, a.Addr)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// watchResolver owns the re-resolution ticker.
type watchResolver struct {
	resolver.Resolver
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func (r *watchResolver) tick(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.Resolver.ResolveNow(resolver.ResolveNowOptions{})
		}
	}
}

func (r *watchResolver) Close() {
	r.once.Do(func() { close(r.stop) })
	r.wg.Wait()
	r.Resolver.Close()
}

// RingEntriesPerReplica is the number of ring entries each replica gets.
// grpc-go's ring gives every endpoint ringSize/N entries (gRFC A42), so
// with a fixed ring size every replica loses entries when one is added and
// series also move between old replicas (35% of them instead of 25% going
// from 3 to 4 with the default 1024 entries). Sizing the ring as RingEntriesPerReplica × N, which
// the client does on every resolver update, keeps each replica's entries,
// so only the series the new replica takes move. grpc-go caps a ring at
// 4096 entries (GRPC_RING_HASH_CAP), so this holds up to 16 replicas.
const RingEntriesPerReplica = 256

// ringConfig is ServiceConfig with a ring sized for n replicas.
func ringConfig(n int) string {
	size := RingEntriesPerReplica * max(n, 1)
	return fmt.Sprintf(`{"loadBalancingConfig":[{"ring_hash_experimental":{"requestHashHeader":%q,"minRingSize":%d,"maxRingSize":%d}}]}`,
		HashHeader, size, size)
}
