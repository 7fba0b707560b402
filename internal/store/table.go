package store

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// ErrInvalidConfig is returned by New for out-of-range settings.
var ErrInvalidConfig = errors.New("invalid store config")

// DefaultCapacity is the default of Config.Capacity.
const DefaultCapacity = 100_000

// MaxCapacity bounds Config.Capacity: slots are indexed with 32-bit
// integers. Memory grows with the entries that arrive, not with it.
const MaxCapacity = math.MaxInt32

// DefaultIdleTTL is the TTL both binaries give their series tables unless
// told another (--series-ttl); Config.TTL's own default, 0, keeps idle
// entries until capacity evicts them.
const DefaultIdleTTL = 24 * time.Hour

// Config tunes a Table. The zero value works.
type Config struct {
	// Capacity is the most entries the Table holds; inserting beyond it
	// evicts one. Default DefaultCapacity.
	Capacity int
	// TTL evicts an entry not acquired for longer than this. Zero disables
	// it.
	TTL time.Duration
	// Shards is the number of independently locked shards, a power of two.
	// Default 64, lowered for small capacities so each shard holds at least
	// 64 entries.
	Shards int
	// Seed seeds the id hash. The zero value picks a random seed; pass one
	// made with maphash.MakeSeed to share it.
	Seed maphash.Seed
}

// Reason says why an entry was evicted.
type Reason uint8

// Eviction reasons.
const (
	ReasonCapacity Reason = iota // the table was full when a new id arrived
	ReasonTTL                    // the entry was idle longer than Config.TTL
	numReasons
)

// String returns the metric label value of r.
func (r Reason) String() string {
	if r == ReasonTTL {
		return "ttl"
	}
	return "capacity"
}

// Table maps series ids to values of type V. See the package comment.
type Table[V any] struct {
	seed     maphash.Seed
	capacity int64
	ttl      int64 // nanoseconds; 0: none
	mask     uint64
	shards   []shard[V]
	live     atomic.Int64
	evicted  [numReasons]atomic.Uint64
}

// New returns an empty Table.
func New[V any](cfg Config) (*Table[V], error) {
	if cfg.Capacity < 0 || cfg.TTL < 0 || cfg.Shards < 0 || cfg.Capacity > MaxCapacity {
		return nil, fmt.Errorf("%w: %+v", ErrInvalidConfig, cfg)
	}
	if cfg.Shards != 0 && bits.OnesCount(uint(cfg.Shards)) != 1 {
		return nil, fmt.Errorf("%w: Shards %d is not a power of two", ErrInvalidConfig, cfg.Shards)
	}
	if cfg.Capacity == 0 {
		cfg.Capacity = DefaultCapacity
	}
	if cfg.Shards == 0 {
		cfg.Shards = 64
		for cfg.Shards > 1 && cfg.Capacity/cfg.Shards < 64 {
			cfg.Shards /= 2
		}
	}
	if cfg.Seed == (maphash.Seed{}) {
		cfg.Seed = maphash.MakeSeed()
	}
	t := &Table[V]{
		seed:     cfg.Seed,
		capacity: int64(cfg.Capacity),
		ttl:      int64(cfg.TTL),
		mask:     uint64(cfg.Shards - 1),
		shards:   make([]shard[V], cfg.Shards),
	}
	for i := range t.shards {
		t.shards[i].per = chunkSlots[V]()
	}
	return t, nil
}

// Ref is an acquired entry: its shard stays locked until Release.
type Ref[V any] struct {
	t       *Table[V]
	sh      *shard[V]
	s       *slot[V]
	now     int64
	created bool
	spill   bool          // the table went over capacity with nothing to evict in sh
	waited  time.Duration // Acquire waited this long for sh's lock
}

// Value returns the entry's value, valid until Release.
func (r Ref[V]) Value() *V { return &r.s.v }

// ID returns the entry's own copy of its id (never a substring of the
// caller's buffer), valid for the life of the entry.
func (r Ref[V]) ID() string { return r.s.id }

// Waited returns how long Acquire waited for another holder of the
// entry's shard: 0 when the lock was free. A caller timing its own work
// (the embedded model's deadline) leaves this out.
func (r Ref[V]) Waited() time.Duration { return r.waited }

// Created reports whether the entry was created by this Acquire, with V's
// zero value, which the caller then initialises.
func (r Ref[V]) Created() bool { return r.created }

// Release unlocks the entry's shard.
func (r Ref[V]) Release() {
	r.sh.mu.Unlock()
	if r.spill {
		r.t.evictElsewhere(r.sh, r.now)
	}
}

// Acquire returns id's entry with its shard locked, creating it (and
// evicting another if the table is full) when absent, and marks it used at
// now. An entry idle past the TTL is replaced by a fresh one, counted as a
// TTL eviction. The caller must call Release.
func (t *Table[V]) Acquire(id string, now time.Time) Ref[V] {
	h := maphash.String(t.seed, id)
	sh := &t.shards[h&t.mask]
	nowNs := now.UnixNano()
	var waited time.Duration
	if !sh.mu.TryLock() {
		// Contended: time the wait (a free lock reads no clock).
		w := time.Now()
		sh.mu.Lock()
		waited = time.Since(w)
	}
	if i := sh.find(h, id); i >= 0 {
		s := sh.slot(i)
		if !t.expired(s.seen, nowNs) {
			s.seen, s.ref = nowNs, true
			return Ref[V]{t: t, sh: sh, s: s, waited: waited}
		}
		t.evicted[ReasonTTL].Add(1)
		s.reset()
		s.seen, s.ref = nowNs, true
		return Ref[V]{t: t, sh: sh, s: s, created: true, waited: waited}
	}
	s, spill := t.insertLocked(sh, h, id, nowNs)
	s.ref = true
	return Ref[V]{t: t, sh: sh, s: s, now: nowNs, created: true, spill: spill, waited: waited}
}

// Lookup returns id's entry with its shard locked, without creating it or
// marking it used. When id is absent ok is false and nothing is locked.
func (t *Table[V]) Lookup(id string) (r Ref[V], ok bool) {
	h := maphash.String(t.seed, id)
	sh := &t.shards[h&t.mask]
	sh.mu.Lock()
	if i := sh.find(h, id); i >= 0 {
		return Ref[V]{t: t, sh: sh, s: sh.slot(i)}, true
	}
	sh.mu.Unlock()
	return Ref[V]{}, false
}

// Restore inserts or replaces id's entry with v, last used at lastSeen, so
// that a restored entry ages out as it would have without the restart. It
// evicts as Acquire does when the table is full.
func (t *Table[V]) Restore(id string, v V, lastSeen time.Time) {
	h := maphash.String(t.seed, id)
	sh := &t.shards[h&t.mask]
	ns := lastSeen.UnixNano()
	sh.mu.Lock()
	var spill bool
	s := (*slot[V])(nil)
	if i := sh.find(h, id); i >= 0 {
		s = sh.slot(i)
	} else {
		s, spill = t.insertLocked(sh, h, id, ns)
	}
	s.v, s.seen, s.ref = v, ns, false
	sh.mu.Unlock()
	if spill {
		t.evictElsewhere(sh, ns)
	}
}

// Delete removes id's entry and reports whether there was one. A deletion
// is not an eviction and is not counted.
func (t *Table[V]) Delete(id string) bool {
	h := maphash.String(t.seed, id)
	sh := &t.shards[h&t.mask]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(h, id)
	if i < 0 {
		return false
	}
	sh.removeLocked(i)
	t.live.Add(-1)
	return true
}

// Range calls fn for every live entry, in no particular order, until fn
// returns false. It holds one shard's lock at a time, so fn must be quick
// and must not call into the Table; v is valid only during the call.
func (t *Table[V]) Range(fn func(id string, v *V) bool) {
	t.RangeSeen(func(id string, _ time.Time, v *V) bool { return fn(id, v) })
}

// RangeSeen is Range with each entry's last-use time, which a checkpoint
// saves so that Restore keeps the TTL running across a restart.
func (t *Table[V]) RangeSeen(fn func(id string, lastSeen time.Time, v *V) bool) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		ok := sh.each(func(s *slot[V]) bool { return fn(s.id, time.Unix(0, s.seen), &s.v) })
		sh.mu.Unlock()
		if !ok {
			return
		}
	}
}

// Sweep evicts every entry idle past the TTL at now and returns how many.
// An entry last used after now (a restored time from a clock that ran
// ahead, or a clock stepped back since) is taken as last used at now. It
// locks one shard at a time. Without a TTL it does nothing.
func (t *Table[V]) Sweep(now time.Time) int {
	if t.ttl == 0 {
		return 0
	}
	nowNs, n := now.UnixNano(), 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for j := range sh.used {
			s := sh.slot(int32(j))
			if !s.live {
				continue
			}
			if s.seen > nowNs {
				// Last used "later than now": restored from a snapshot a
				// clock running ahead wrote, or stamped before this clock
				// stepped back. Its idle time counts from now, or it would
				// outlive the TTL by as much as it lies ahead.
				s.seen = nowNs
			}
			if t.expired(s.seen, nowNs) {
				sh.removeLocked(int32(j))
				n++
			}
		}
		sh.mu.Unlock()
	}
	t.live.Add(int64(-n))
	t.evicted[ReasonTTL].Add(uint64(n))
	return n
}

// Len returns the number of live entries.
func (t *Table[V]) Len() int { return int(t.live.Load()) }

// Capacity returns the most entries the Table holds.
func (t *Table[V]) Capacity() int { return int(t.capacity) }

// Evicted returns how many entries were evicted for reason r.
func (t *Table[V]) Evicted(r Reason) uint64 {
	if r >= numReasons {
		return 0
	}
	return t.evicted[r].Load()
}

// expired reports whether an entry last used at seen is idle past the TTL
// at now. The difference is taken in uint64, where it cannot overflow: a
// restored last use at the int64 minimum wrapped to a negative idle time
// and never expired.
func (t *Table[V]) expired(seen, now int64) bool {
	return t.ttl != 0 && seen < now && uint64(now)-uint64(seen) > uint64(t.ttl)
}

// insertLocked adds a new entry for id to sh, evicting one of sh's entries
// when the table is full. spill reports a full table whose victim must come
// from another shard (sh had none to give); the caller evicts it after
// unlocking sh, so no goroutine ever holds two shard locks.
func (t *Table[V]) insertLocked(sh *shard[V], h uint64, id string, now int64) (s *slot[V], spill bool) {
	// Count the entry first: concurrent inserts in other shards then see
	// it, so each insert that takes the table past its capacity evicts
	// exactly one entry and the bound holds whatever the interleaving.
	if t.live.Add(1) > t.capacity {
		if i, r := sh.victimLocked(t, now); i >= 0 {
			t.evicted[r].Add(1)
			sh.removeLocked(i)
			t.live.Add(-1)
		} else {
			spill = true
		}
	}
	s = sh.addLocked(h, cloneString(id))
	s.seen = now
	return s, spill
}

// evictElsewhere evicts one entry from a shard other than skip while the
// table is over capacity; it takes one shard lock at a time.
func (t *Table[V]) evictElsewhere(skip *shard[V], now int64) {
	for i := range t.shards {
		if t.live.Load() <= t.capacity {
			return
		}
		sh := &t.shards[i]
		if sh == skip {
			continue
		}
		sh.mu.Lock()
		j, r := sh.victimLocked(t, now)
		if j >= 0 {
			t.evicted[r].Add(1)
			sh.removeLocked(j)
			t.live.Add(-1)
		}
		sh.mu.Unlock()
		if j >= 0 {
			return
		}
	}
}

// cloneString copies id so an entry never pins the caller's request buffer.
func cloneString(s string) string { return string(append([]byte(nil), s...)) }

// shard is one lock's worth of entries.
type shard[V any] struct {
	mu sync.Mutex
	// guarded by mu
	index  []int32     // open addressing over slot numbers + 1; 0 is empty
	chunks [][]slot[V] // slots in chunks of per, never moved
	per    int32       // slots per chunk (chunkSlots), set by New
	used   int32       // slots handed out so far (live or free)
	free   []int32     // freed slot numbers, reused first
	n      int32       // live entries
	hand   int32       // CLOCK hand: next slot to consider
	_      [32]byte    // keeps neighbouring shard locks off one cache line
}

type slot[V any] struct {
	hash uint64
	id   string
	seen int64 // last use, unix nanoseconds
	ref  bool  // CLOCK reference bit: used since the hand last passed
	live bool
	v    V
}

func (s *slot[V]) reset() {
	var zero V
	s.v = zero
}
