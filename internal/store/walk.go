package store

import "time"

// Shards returns the number of shards, for a walk that works one shard at
// a time (RangeShard).
func (t *Table[V]) Shards() int { return len(t.shards) }

// RangeShard is RangeSeen over shard i (0 <= i < Shards()) only: it holds
// that one shard's lock while it calls fn. A checkpoint copies one shard's
// entries under the lock and encodes and writes them after releasing it,
// so scorers of that shard wait for a copy, never for a disk write. It
// returns false if fn stopped the walk.
func (t *Table[V]) RangeShard(i int, fn func(id string, lastSeen time.Time, v *V) bool) bool {
	sh := &t.shards[i]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.each(func(s *slot[V]) bool { return fn(s.id, time.Unix(0, s.seen), &s.v) })
}
