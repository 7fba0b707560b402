package detector

import (
	"sync/atomic"
	"time"
)

// Clock tells the time; tests inject a fake.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// stampClock issues the receive times of samples sent without timestamps:
// the wall clock, never earlier than a stamp already issued. A wall clock
// stepped back (an NTP step, a VM resumed from a snapshot) would otherwise
// stamp a series' next samples before its last ones, and the order check
// would refuse them until the clock caught up. After a step back by D the
// stamps hold at the last one issued until the wall clock passes it again,
// D later: samples keep being accepted, in order, and their stamps are
// exact again once the clock has caught up. Equal stamps are in order
// (the check refuses only earlier ones), so no stamp is made up.
//
// Why not the wall clock at start plus monotonic time elapsed (Go's
// time.Since), which never steps at all? It would never step forward
// either: a clock that was wrong at start, and then corrected, would keep
// every stamp wrong by the correction for the life of the process, and
// client-stamped samples are judged against the wall clock regardless.
// Holding only for the length of a step back keeps the stamps on the wall
// clock everywhere else.
type stampClock struct {
	last atomic.Int64 // newest stamp issued, Unix ns
}

// stamp returns the receive time for a sample received at wall: wall, or
// the newest stamp already issued if that is later.
func (c *stampClock) stamp(wall int64) int64 {
	for {
		last := c.last.Load()
		if wall <= last {
			return last
		}
		if c.last.CompareAndSwap(last, wall) {
			return wall
		}
	}
}

// scoreTime is one Score call's view of the clocks.
type scoreTime struct {
	wall   time.Time // the injected clock: last use of entries (TTL)
	stamp  int64     // the receive time of samples without timestamps
	latest int64     // the newest client timestamp accepted: wall + MaxClockSkew
}

// pullBack bounds a series' watermark by what this call's samples may
// carry, and reports whether it moved it. A watermark further ahead than
// any timestamp accepted now came from another clock: a snapshot or a
// handover written by a replica whose clock ran fast, or this server's own
// wall clock before it stepped back. Left alone, it would refuse every
// sample of the series as out of order for as long as it is ahead; pulled
// back, it refuses them for at most MaxClockSkew.
//
// For client timestamps the bound is latest (the clock plus the skew a
// client is allowed); a client whose clock is right is refused for at most
// MaxClockSkew. For server stamps it is the stamp, so server-stamped
// samples are accepted at once, unless the watermark lies within what a
// client may send now (a series stamped by both): that order stays.
func (t scoreTime) pullBack(last *int64, own bool) bool {
	horizon, to := t.latest, t.latest
	if own {
		horizon, to = max(t.latest, t.stamp), t.stamp
	}
	if *last <= horizon {
		return false
	}
	*last = to
	return true
}
