// Package store holds per-series state: one generic Table whose entry
// carries everything a service keeps for a series, bounded by a capacity
// and an idle time-to-live.
//
// Method. A Table is split into shards (64 by default), each a mutex over
// an open-addressing index of int32 slot numbers and a chunked slice of
// slots holding the value inline. A lookup computes one maphash of the id:
// its low bits pick the shard, its high bits the index position, and the
// slot keeps the full hash so the index grows and deletes without hashing
// again. One lookup is therefore one hash and one lock.
//
// Eviction never locks a series out: inserting into a full table evicts
// one entry chosen by CLOCK (second chance), an approximation of least
// recently used run per shard: every access sets the slot's reference bit,
// and the shard's hand clears bits until it finds an entry not used since
// the hand last passed. CLOCK costs one bool per entry instead of the 16-24
// bytes and the pointer chasing of a doubly linked list (container/list
// costs a 48-byte element per entry plus the map's pointer to it), and
// an access only sets a bit instead of relinking a list. The victim comes
// from the inserting shard, so the bound is global while the eviction order
// is least-recently-used per shard (approximately globally, since ids hash
// uniformly). An entry idle longer than the TTL is evicted when it is next
// looked up, when the CLOCK hand passes it, or by Sweep, which the owner
// calls periodically; the Table starts no goroutines.
//
// Slots live in chunks of about 64 KiB so growing a shard never copies the
// values already stored (they can be a kilobyte each) and a shard wastes at
// most one partly filled chunk (at 100,000 kilobyte entries over 64 shards,
// about 2% of the table).
//
// What it deliberately does not do: it knows nothing of metrics, gRPC or
// persistence formats. Its counters are methods (Len, Evicted) that a
// collector reads, and checkpointing builds on Range and Restore.
//
// Concurrency: a Table is safe for concurrent use. Acquire returns the entry
// with its shard locked, so the caller owns the series (and every series of
// that shard) until Release; callers must not call into the Table, or block,
// while holding a Ref. Range locks one shard at a time, so a walk over every
// entry delays a scorer by at most one shard's walk.
//
// This package has no API stability promise.
package store
