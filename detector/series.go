package detector

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/astraguard/astraguard/detector/heuristic"
)

// series is the detector's state for one series.
type series struct {
	last int64 // newest scored timestamp, to reject out-of-order samples
	heur heuristic.State
}

const numShards = 64 // a power of two; enough that 2-16 cores rarely collide

// table is a sharded map of series state. Sharding keeps concurrent streams
// of different series off each other's locks.
type table struct {
	seed   maphash.Seed
	max    int64
	count  atomic.Int64
	shards [numShards]shard
}

type shard struct {
	mu sync.Mutex
	m  map[string]*series // guarded by mu
	_  [40]byte           // keeps neighbouring shard locks off one cache line
}

func newTable(max int) *table {
	t := &table{seed: maphash.MakeSeed(), max: int64(max)}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*series)
	}
	return t
}

func (t *table) shardOf(id string) *shard {
	return &t.shards[maphash.String(t.seed, id)&(numShards-1)]
}

// scoreGroup validates and heuristically scores one group's samples into
// out (len(out) == len(g.Values)) and returns how many were valid. now is
// the batch's receive time; latest is the newest timestamp accepted.
func (d *Detector) scoreGroup(g Group, now, latest int64, out []Verdict) int {
	if code := d.checkGroup(g); code != ErrNone {
		for i := range out {
			out[i] = Verdict{UnixNanos: timestampAt(g, i, now), Err: code}
		}
		return 0
	}
	sh := d.table.shardOf(g.SeriesID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[g.SeriesID]
	if s == nil {
		if d.table.count.Add(1) > d.table.max {
			d.table.count.Add(-1)
			for i := range out {
				out[i] = Verdict{UnixNanos: timestampAt(g, i, now), Err: ErrTooManySeries}
			}
			return 0
		}
		// Clone so the map never pins a whole request buffer via a substring.
		id := cloneString(g.SeriesID)
		s = &series{last: math.MinInt64, heur: d.heur.NewState(id)}
		sh.m[id] = s
	}
	valid := 0
	for i, v := range g.Values {
		ts := timestampAt(g, i, now)
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			out[i] = Verdict{UnixNanos: ts, Err: ErrNotFinite}
		case ts < 0 || ts > latest:
			out[i] = Verdict{UnixNanos: ts, Err: ErrInvalidTimestamp}
		case ts < s.last:
			out[i] = Verdict{UnixNanos: ts, Err: ErrOutOfOrder}
		default:
			s.last = ts
			r := d.heur.Score(&s.heur, ts, v)
			out[i] = Verdict{
				UnixNanos:      ts,
				Score:          r.Score,
				Anomaly:        r.Anomaly,
				LimitViolation: r.LimitViolation,
				Source:         SourceHeuristic,
			}
			valid++
		}
	}
	return valid
}

func (d *Detector) checkGroup(g Group) ErrorCode {
	switch {
	case g.SeriesID == "":
		return ErrMissingSeriesID
	case len(g.SeriesID) > d.cfg.MaxSeriesIDBytes || !utf8.ValidString(g.SeriesID):
		return ErrInvalidSeriesID
	case len(g.UnixNanos) != 0 && len(g.UnixNanos) != len(g.Values):
		return ErrLengthMismatch
	}
	return ErrNone
}

func timestampAt(g Group, i int, now int64) int64 {
	if i < len(g.UnixNanos) {
		return g.UnixNanos[i]
	}
	return now
}

func cloneString(s string) string { return string(append([]byte(nil), s...)) }
