package modelserver

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/astraguard/astraguard/gen/inference"
)

// Replay cache bounds. A client resends a request when its answer was lost
// (gRPC's retry policy on UNAVAILABLE: the connection broke after the
// server had scored it), within its own deadline, so a short memory is
// enough; the sample budget bounds the memory of the cached answers (about
// 10 bytes per sample) whatever the batch sizes.
const (
	replayTTL        = 30 * time.Second
	replayMaxEntries = 4096
	replayMaxSamples = 1 << 20
)

// replays remembers the answers to recent requests by request id, so a
// resent request is answered from memory instead of being applied to the
// series state a second time (a stateful model would learn its samples
// twice). An entry matches only a request with the same id and the same
// content (model, parameters, tensors, outputs: a fingerprint), so a client
// that reuses ids for different requests is scored as usual.
type replays struct {
	seed    maphash.Seed
	mu      sync.Mutex
	entries map[string]*replay // guarded by mu
	order   []*replay          // insertion order, oldest first; guarded by mu
	samples int                // cached answers' samples; guarded by mu
}

type replay struct {
	id      string
	sum     uint64
	at      time.Time
	samples int
	done    chan struct{} // closed when resp or failed is set
	resp    *inference.ModelInferResponse
	failed  bool
}

func newReplays() *replays {
	return &replays{seed: maphash.MakeSeed(), entries: make(map[string]*replay)}
}

// begin looks id up. When a request with the same id and fingerprint sum
// was answered (or is being answered) it waits for that answer and returns
// it; a nil response means the caller owns the new entry e and must end it
// with finish.
func (r *replays) begin(ctx context.Context, id string, sum uint64, samples int, now time.Time) (resp *inference.ModelInferResponse, e *replay, err error) {
	r.mu.Lock()
	r.expireLocked(now)
	if old := r.entries[id]; old != nil && old.sum == sum {
		r.mu.Unlock()
		select {
		case <-old.done:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		if !old.failed {
			return old.resp, nil, nil
		}
		// The first attempt failed before it changed any state: score anew.
		r.mu.Lock()
	}
	e = &replay{id: id, sum: sum, at: now, samples: samples, done: make(chan struct{})}
	r.entries[id] = e // a different request under a reused id replaces the old one
	r.order = append(r.order, e)
	r.samples += samples
	r.evictLocked()
	r.mu.Unlock()
	return nil, e, nil
}

// finish records e's answer (nil: the request failed) and wakes waiters.
func (r *replays) finish(e *replay, resp *inference.ModelInferResponse) {
	r.mu.Lock()
	e.resp, e.failed = resp, resp == nil
	if e.failed && r.entries[e.id] == e {
		delete(r.entries, e.id)
	}
	r.mu.Unlock()
	close(e.done)
}

func (r *replays) expireLocked(now time.Time) {
	for len(r.order) > 0 && now.Sub(r.order[0].at) > replayTTL {
		r.dropOldestLocked()
	}
}

func (r *replays) evictLocked() {
	for len(r.order) > replayMaxEntries || (r.samples > replayMaxSamples && len(r.order) > 1) {
		r.dropOldestLocked()
	}
}

func (r *replays) dropOldestLocked() {
	e := r.order[0]
	r.order[0] = nil
	r.order = r.order[1:]
	r.samples -= e.samples
	if r.entries[e.id] == e {
		delete(r.entries, e.id)
	}
}

// fingerprint hashes what decides a request's answer and its effect on
// the series state.
func (r *replays) fingerprint(req *inference.ModelInferRequest, b *batch) uint64 {
	var h maphash.Hash
	h.SetSeed(r.seed)
	var buf [8]byte
	word := func(u uint64) {
		binary.LittleEndian.PutUint64(buf[:], u)
		_, _ = h.Write(buf[:])
	}
	str := func(s string) {
		word(uint64(len(s)))
		_, _ = h.WriteString(s)
	}
	str(req.GetModelName())
	str(req.GetModelVersion())
	str(b.seq)
	word(uint64(boolBits(b.start) | boolBits(b.end)<<1 | boolBits(b.typed)<<2))
	for _, o := range b.outputs {
		str(o)
	}
	word(uint64(len(b.values)))
	for _, v := range b.values {
		word(math.Float64bits(v))
	}
	word(uint64(len(b.stamps)))
	for _, t := range b.stamps {
		word(uint64(t))
	}
	word(uint64(len(b.ids)))
	for _, id := range b.ids {
		word(uint64(len(id)))
		_, _ = h.Write(id)
	}
	return h.Sum64()
}

func boolBits(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
