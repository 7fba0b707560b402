package anomalyview

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/astraguard/astraguard/detector"
)

// Defaults and bounds of Config.
const (
	DefaultSeries  = 256 // series whose context is kept
	DefaultSamples = 240 // samples kept per series
	DefaultFeed    = 100 // anomalies in the feed
	// maxPoints bounds Series x Samples: 4 Mi samples take 192 MiB, far
	// above what a page can show but a hard stop for a typo.
	maxPoints = 1 << 22
	maxFeed   = 10_000
)

// Config sizes a View. The zero value gives the defaults.
type Config struct {
	// Series is how many flagged series keep their recent context, those
	// flagged longest ago evicted first. Default 256.
	Series int
	// Samples is how many recent samples each kept series keeps. Default 240.
	Samples int
	// Feed is how many recent anomalies (over all series) the feed holds.
	// Default 100.
	Feed int
	// Off turns the feed and the context buffer off; the traffic is still
	// counted.
	Off bool
}

// Validate reports a Config that New would refuse.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Series < 0 || c.Samples < 0 || c.Feed < 0 {
		return c, errors.New("anomaly view: sizes must not be negative")
	}
	c.Series = cmp.Or(c.Series, DefaultSeries)
	c.Samples = cmp.Or(c.Samples, DefaultSamples)
	c.Feed = cmp.Or(c.Feed, DefaultFeed)
	// Each bound alone first: their product could overflow.
	if c.Series > maxPoints || c.Samples > maxPoints || c.Series*c.Samples > maxPoints || c.Feed > maxFeed {
		return c, fmt.Errorf("anomaly view: %d series x %d samples is over %d, or a feed of %d over %d", c.Series, c.Samples, maxPoints, c.Feed, maxFeed)
	}
	return c, nil
}

// Point flags.
const (
	flagAnomaly uint8 = 1 << iota
	flagBand
	flagHeuristic
)

// point is one kept sample: 48 bytes.
type point struct {
	nanos                         int64
	value, expected, lower, upper float64
	score                         float32
	flags                         uint8
	mech                          detector.Mechanism
}

// entry is one kept series: a ring of its recent samples, linked in the
// order of its last anomaly (head: flagged most recently).
type entry struct {
	id          string
	prev, next  *entry
	ring        []point
	start, size int
}

func (e *entry) add(p point) {
	if e.size < len(e.ring) {
		e.ring[(e.start+e.size)%len(e.ring)] = p
		e.size++
		return
	}
	e.ring[e.start] = p
	e.start = (e.start + 1) % len(e.ring)
}

// event is one anomaly of the feed.
type event struct {
	seq    uint64
	series string
	value  float64
	v      detector.Verdict
}

// View is the anomaly view. Build it with New.
type View struct {
	cfg     Config
	cats    []string        // traffic categories: model, heuristic per reason, error
	traffic []atomic.Uint64 // verdicts per category since start
	kept    atomic.Int64    // len(series), read without the lock

	mu         sync.RWMutex
	series     map[string]*entry // guarded by mu
	head, tail *entry            // guarded by mu

	feedMu  sync.Mutex
	feed    []event // guarded by feedMu; a ring indexed by seq
	feedSeq uint64  // guarded by feedMu; the newest event's seq, 0 before any
}

// maxCats bounds the traffic categories (detector has nine reasons).
const maxCats = 64

// New returns a View sized by cfg.
func New(cfg Config) (*View, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &View{cfg: cfg, series: make(map[string]*entry)}
	v.cats = append(v.cats, "model")
	for r := detector.Reason(0); len(v.cats) < maxCats-1 && r.String() != "unknown"; r++ {
		if r == detector.ReasonNone {
			v.cats = append(v.cats, "heuristic")
			continue
		}
		v.cats = append(v.cats, "heuristic: "+r.String())
	}
	v.cats = append(v.cats, "error")
	v.traffic = make([]atomic.Uint64, len(v.cats))
	if !cfg.Off {
		v.feed = make([]event, cfg.Feed)
	}
	return v, nil
}

// category returns x's traffic category.
func (v *View) category(x *detector.Verdict) int {
	switch {
	case x.Err != detector.ErrNone || x.Source == detector.SourceNone:
		return len(v.cats) - 1
	case x.Source == detector.SourceModel:
		return 0
	}
	return min(1+int(x.Reason), len(v.cats)-2)
}

// ObserveVerdicts counts the batch's traffic and keeps its anomalies and
// the context of flagged series (server.VerdictObserver). verdicts holds
// one verdict per sample of groups, in order.
func (v *View) ObserveVerdicts(groups []detector.Group, verdicts []detector.Verdict) {
	var counts [maxCats]uint32
	off := 0
	for _, g := range groups {
		n := len(g.Values)
		if off+n > len(verdicts) {
			break // not the Score contract: count what is there
		}
		vs := verdicts[off : off+n]
		off += n
		flagged := false
		for i := range vs {
			counts[v.category(&vs[i])]++
			flagged = flagged || (vs[i].Anomaly && vs[i].Err == detector.ErrNone)
		}
		if !v.cfg.Off && (flagged || v.kept.Load() > 0) {
			v.keep(g, vs, flagged)
		}
	}
	for i, c := range counts[:len(v.cats)] {
		if c > 0 {
			v.traffic[i].Add(uint64(c))
		}
	}
}

// keep adds g's samples to its series' context when the series is kept or
// flagged now, and a flagged group's anomalies to the feed.
func (v *View) keep(g detector.Group, vs []detector.Verdict, flagged bool) {
	if !flagged {
		v.mu.RLock()
		_, ok := v.series[g.SeriesID]
		v.mu.RUnlock()
		if !ok {
			return
		}
	}
	v.mu.Lock()
	e := v.series[g.SeriesID]
	if e == nil && !flagged { // evicted since the lookup
		v.mu.Unlock()
		return
	}
	if e == nil {
		e = v.admitLocked(g.SeriesID)
	}
	// Only the last Samples samples can stay.
	for i := max(0, len(vs)-len(e.ring)); i < len(vs); i++ {
		if vs[i].Err == detector.ErrNone {
			e.add(toPoint(g.Values[i], &vs[i]))
		}
	}
	id := e.id
	if flagged {
		v.toFrontLocked(e)
	}
	v.mu.Unlock()
	if flagged {
		v.addFeed(id, g.Values, vs)
	}
}

func toPoint(value float64, x *detector.Verdict) point {
	p := point{nanos: x.UnixNanos, value: value, score: float32(x.Score), mech: x.Explain.Mechanism}
	if x.Anomaly {
		p.flags |= flagAnomaly
	}
	if x.Source == detector.SourceHeuristic {
		p.flags |= flagHeuristic
	}
	if x.Explain.HasBand {
		p.flags |= flagBand
		p.expected, p.lower, p.upper = x.Explain.Expected, x.Explain.Lower, x.Explain.Upper
	}
	return p
}

// admitLocked adds series id, evicting the series flagged longest ago
// when the buffer is full and reusing its ring.
func (v *View) admitLocked(id string) *entry {
	var e *entry
	if len(v.series) >= v.cfg.Series {
		e = v.tail
		v.unlinkLocked(e)
		delete(v.series, e.id)
		e.start, e.size = 0, 0
	} else {
		e = &entry{ring: make([]point, v.cfg.Samples)}
	}
	e.id = strings.Clone(id) // the request's id may alias a reused buffer
	v.series[e.id] = e
	v.kept.Store(int64(len(v.series)))
	v.pushFrontLocked(e)
	return e
}

func (v *View) unlinkLocked(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		v.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		v.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (v *View) pushFrontLocked(e *entry) {
	e.next = v.head
	if v.head != nil {
		v.head.prev = e
	}
	v.head = e
	if v.tail == nil {
		v.tail = e
	}
}

func (v *View) toFrontLocked(e *entry) {
	if v.head != e {
		v.unlinkLocked(e)
		v.pushFrontLocked(e)
	}
}

// addFeed appends the anomalies of vs to the feed, oldest first.
func (v *View) addFeed(id string, values []float64, vs []detector.Verdict) {
	v.feedMu.Lock()
	defer v.feedMu.Unlock()
	for i := range vs {
		if vs[i].Anomaly && vs[i].Err == detector.ErrNone {
			v.feedSeq++
			v.feed[v.feedSeq%uint64(len(v.feed))] = event{seq: v.feedSeq, series: id, value: values[i], v: vs[i]}
		}
	}
}

// Traffic yields each traffic category with the verdicts counted in it
// since the View was built: "model", "heuristic" (or "heuristic: REASON"
// for a fallback) and "error" (samples that could not be scored).
func (v *View) Traffic() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		for i, name := range v.cats {
			if !yield(name, v.traffic[i].Load()) {
				return
			}
		}
	}
}

// Sizes returns the view's configuration after defaults.
func (v *View) Sizes() Config { return v.cfg }
