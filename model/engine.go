package model

import (
	"container/list"
	"errors"
	"fmt"
	"sync"
)

// ErrBatch is returned by Engine.Score for mismatched batch slices.
var ErrBatch = errors.New("invalid batch")

// numShards spreads series over independent locks so concurrent calls for
// different series rarely contend; a power of two keeps the pick cheap.
const numShards = 16

// Engine scores many series concurrently. It keeps at most maxSeries
// detectors, evicting the least recently used series of a shard when that
// shard is full; an evicted or forgotten series starts again from scratch,
// which callers see as Result.Warm=false. It is safe for concurrent use:
// calls for different series proceed in parallel, calls for one series are
// serialised.
type Engine struct {
	p      *params
	shards [numShards]shard
}

type shard struct {
	mu sync.Mutex
	// guarded by mu
	max   int
	byID  map[string]*list.Element // value: *entry
	order list.List                // front: most recently used
}

type entry struct {
	id  string
	det Detector
}

// NewEngine returns an engine holding at most maxSeries series (rounded up
// to a multiple of 16, the shard count; the bound is per shard, so one shard
// may evict while others have room).
func NewEngine(cfg Config, maxSeries int) (*Engine, error) {
	if maxSeries <= 0 {
		return nil, fmt.Errorf("%w: maxSeries %d must be positive", ErrInvalidConfig, maxSeries)
	}
	p, err := cfg.params()
	if err != nil {
		return nil, err
	}
	e := &Engine{p: p}
	per := (maxSeries + numShards - 1) / numShards
	for i := range e.shards {
		e.shards[i].max = per
		e.shards[i].byID = make(map[string]*list.Element)
	}
	return e, nil
}

// shard picks a series' shard with FNV-1a. A fixed hash (not a random
// maphash seed) keeps eviction, and so every score, reproducible run to run.
func (e *Engine) shard(id string) *shard {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &e.shards[h%numShards]
}

// Score scores one batch of one series, in time order, into out; the three
// slices must have equal length. A new series (or one evicted since its
// last batch) starts learning from this batch.
func (e *Engine) Score(seriesID string, unixNanos []int64, values []float64, out []Result) error {
	if len(unixNanos) != len(values) || len(out) != len(values) {
		return fmt.Errorf("score series %q: %w: %d timestamps, %d values, %d results",
			seriesID, ErrBatch, len(unixNanos), len(values), len(out))
	}
	s := e.shard(seriesID)
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.getLocked(seriesID, e.p)
	for i, v := range values {
		out[i] = d.Update(unixNanos[i], v)
	}
	return nil
}

// getLocked returns the series' detector, creating it and evicting the
// least recently used series when the shard is full.
func (s *shard) getLocked(id string, p *params) *Detector {
	if el, ok := s.byID[id]; ok {
		s.order.MoveToFront(el)
		return &el.Value.(*entry).det
	}
	var en *entry
	if s.order.Len() >= s.max {
		// Reuse the evicted entry's memory: steady-state churn then
		// allocates only the map slot.
		el := s.order.Back()
		en = el.Value.(*entry)
		delete(s.byID, en.id)
		s.order.Remove(el)
		*en = entry{}
	} else {
		en = new(entry)
	}
	en.id = id
	en.det.p = p
	s.byID[id] = s.order.PushFront(en)
	return &en.det
}

// Forget drops a series' state; its next batch starts learning afresh. It
// reports whether the series was known.
func (e *Engine) Forget(seriesID string) bool {
	s := e.shard(seriesID)
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byID[seriesID]
	if ok {
		delete(s.byID, seriesID)
		s.order.Remove(el)
	}
	return ok
}

// Len returns the number of series currently held.
func (e *Engine) Len() int {
	n := 0
	for i := range e.shards {
		s := &e.shards[i]
		s.mu.Lock()
		n += s.order.Len()
		s.mu.Unlock()
	}
	return n
}
