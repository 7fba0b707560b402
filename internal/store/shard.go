package store

import "unsafe"

// chunkBytes sizes the slot chunks. Chunks are allocated whole, so
// growing never copies stored values; each holds as many slots as fit in
// 64 KiB (at least one), because the runtime rounds an allocation above
// 32 KiB up to whole 8 KiB pages: a chunk of a power-of-two slot count
// wasted up to 15% of it on kilobyte values, one of this size wastes
// under one slot.
const chunkBytes = 64 << 10

func chunkSlots[V any]() int32 {
	return int32(max(1, chunkBytes/unsafe.Sizeof(slot[V]{})))
}

func (sh *shard[V]) slot(i int32) *slot[V] {
	return &sh.chunks[i/sh.per][i%sh.per]
}

// home is a hash's first index position. The low bits chose the shard, so
// the index uses the high ones.
func (sh *shard[V]) home(h uint64) int {
	return int(h>>32) & (len(sh.index) - 1)
}

// find returns the slot number of id, or -1.
func (sh *shard[V]) find(h uint64, id string) int32 {
	if len(sh.index) == 0 {
		return -1
	}
	mask := len(sh.index) - 1
	for pos := sh.home(h); ; pos = (pos + 1) & mask {
		e := sh.index[pos]
		if e == 0 {
			return -1
		}
		if s := sh.slot(e - 1); s.hash == h && s.id == id {
			return e - 1
		}
	}
}

// addLocked takes a free slot for a new entry and indexes it.
func (sh *shard[V]) addLocked(h uint64, id string) *slot[V] {
	var i int32
	if n := len(sh.free); n > 0 {
		i, sh.free = sh.free[n-1], sh.free[:n-1]
	} else {
		if int(sh.used/sh.per) == len(sh.chunks) {
			sh.chunks = append(sh.chunks, make([]slot[V], sh.per))
		}
		i = sh.used
		sh.used++
	}
	if 2*(int(sh.n)+1) > len(sh.index) {
		sh.grow()
	}
	s := sh.slot(i)
	s.hash, s.id, s.live, s.ref = h, id, true, false
	sh.place(i)
	sh.n++
	return s
}

// place puts slot i at the first empty position from its home.
func (sh *shard[V]) place(i int32) {
	mask := len(sh.index) - 1
	pos := sh.home(sh.slot(i).hash)
	for sh.index[pos] != 0 {
		pos = (pos + 1) & mask
	}
	sh.index[pos] = i + 1
}

// grow doubles the index (at least 16 positions) and re-places every live
// slot from its stored hash, so no id is hashed again.
func (sh *shard[V]) grow() {
	sh.index = make([]int32, max(16, 2*len(sh.index)))
	for i := range sh.used {
		if sh.slot(i).live {
			sh.place(i)
		}
	}
}

// removeLocked frees slot i: it leaves the index (backward-shift deletion,
// so probes need no tombstones) and its value is zeroed so it pins nothing.
func (sh *shard[V]) removeLocked(i int32) {
	s := sh.slot(i)
	mask := len(sh.index) - 1
	hole := sh.home(s.hash)
	for sh.index[hole] != i+1 {
		hole = (hole + 1) & mask
	}
	for j := (hole + 1) & mask; sh.index[j] != 0; j = (j + 1) & mask {
		k := sh.home(sh.slot(sh.index[j] - 1).hash)
		// The entry at j may fill the hole unless its home lies
		// cyclically in (hole, j].
		if (j-k)&mask >= (j-hole)&mask {
			sh.index[hole] = sh.index[j]
			hole = j
		}
	}
	sh.index[hole] = 0
	s.reset()
	s.hash, s.id, s.live, s.ref, s.seen = 0, "", false, false, 0
	sh.free = append(sh.free, i)
	sh.n--
}

// victimLocked picks the entry to evict by CLOCK: the first entry at or
// after the hand that is idle past the TTL or not used since the hand last
// passed, clearing reference bits on the way. It returns -1 if sh is empty.
func (sh *shard[V]) victimLocked(t *Table[V], now int64) (int32, Reason) {
	if sh.n == 0 {
		return -1, ReasonCapacity
	}
	// Two turns suffice: the first clears every reference bit.
	for range 2*sh.used + 1 {
		i := sh.hand
		sh.hand++
		if sh.hand >= sh.used {
			sh.hand = 0
		}
		s := sh.slot(i)
		switch {
		case !s.live:
		case t.expired(s.seen, now):
			return i, ReasonTTL
		case s.ref:
			s.ref = false
		default:
			return i, ReasonCapacity
		}
	}
	return -1, ReasonCapacity // unreachable while sh.n > 0
}

// each calls fn for every live slot until it returns false.
func (sh *shard[V]) each(fn func(*slot[V]) bool) bool {
	for i := range sh.used {
		if s := sh.slot(i); s.live && !fn(s) {
			return false
		}
	}
	return true
}
