package server

import (
	"errors"
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// streamDefaults fills the zero limits that detector streams use.
func (c Config) streamDefaults() (Config, error) {
	if c.MaxSamplesPerRequest < 0 || c.MaxSendMsgBytes < 0 || c.MaxSeriesPerStream < 0 || c.MaxDetectStreams < 0 || c.MaxDetectStreamsPerClient < 0 || c.QueueDepth < 0 ||
		c.MaxQueuedBytes < 0 || c.SendTimeout < 0 || c.RateLimit < 0 || c.RateBurst < 0 || c.RateWait < 0 || c.MaxRateClients < 0 ||
		c.MaxWatchStreams < 0 || c.MaxWatchStreamsPerClient < 0 {
		return c, errors.New("server config: negative limit")
	}
	return c.withDefaults(), nil
}

// seriesSet counts the distinct series one stream has sent. It keeps
// 64-bit hashes, not ids, so its memory does not depend on id length; a
// collision only undercounts by one.
type seriesSet struct {
	seed  maphash.Seed
	max   int
	maxID int // the scorer's series id limit in bytes
	seen  map[uint64]struct{}
}

func newSeriesSet(max, maxID int) *seriesSet {
	return &seriesSet{seed: maphash.MakeSeed(), max: max, maxID: maxID, seen: make(map[uint64]struct{})}
}

// add records the series of a request and reports a LimitError once the
// stream has sent more distinct series than allowed. Samples with an empty
// or over-long id (or channel name) get a per-sample error and never take
// a slot; skipping over-long frame ids also spares hashing a long source
// once per channel.
func (s *seriesSet) add(series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) error {
	for _, g := range series {
		if id := g.GetSeriesId(); id != "" && len(id) <= s.maxID {
			s.seen[maphash.String(s.seed, id)] = struct{}{}
		}
	}
	var h maphash.Hash
	h.SetSeed(s.seed)
	for _, f := range frames {
		if f.GetSource() == "" || len(f.GetSource())+2 > s.maxID {
			continue
		}
		for _, c := range f.GetChannels() {
			if c.GetName() == "" || len(f.GetSource())+1+len(c.GetName()) > s.maxID {
				continue
			}
			// Hash "<source>/<channel>" as toGroups names it, without
			// building the string.
			h.Reset()
			h.WriteString(f.GetSource())
			h.WriteByte('/')
			h.WriteString(c.GetName())
			s.seen[h.Sum64()] = struct{}{}
		}
	}
	if len(s.seen) > s.max {
		return &LimitError{Limit: LimitSeriesPerStream, Max: s.max, Got: len(s.seen)}
	}
	return nil
}

// limitLabels are the values of the limit label, one per Limit* name.
var limitLabels = map[string]string{
	LimitSamplesPerRequest: "samples_per_request",
	LimitSeriesPerStream:   "series_per_stream",
	LimitDetectStreams:     "detect_streams",
	LimitRate:              "rate",
	LimitSendTimeout:       "send_timeout",
	LimitMessageSize:       "message_size",
	LimitWatchStreams:      "watch_streams",
	LimitOtherStreams:      "other_streams",
	LimitResponseSize:      "response_size",
	LimitConnections:       "connections",
	LimitQueuedBytes:       "queued_bytes",
}

// limitMetrics counts requests and streams refused by a limit.
type limitMetrics struct {
	rejections map[string]prometheus.Counter // by Limit* name; read-only after construction
}

func newLimitMetrics(reg prometheus.Registerer) *limitMetrics {
	vec := promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "astraguard_limit_rejections_total",
		Help: "Requests or streams refused with RESOURCE_EXHAUSTED, by the limit they broke.",
	}, []string{"limit"})
	m := &limitMetrics{rejections: make(map[string]prometheus.Counter, len(limitLabels))}
	for name, label := range limitLabels {
		m.rejections[name] = vec.WithLabelValues(label)
	}
	return m
}

// count records a refusal if err is a LimitError.
func (m *limitMetrics) count(err error) {
	var le *LimitError
	if errors.As(err, &le) {
		if c, ok := m.rejections[le.Limit]; ok {
			c.Inc()
		}
	}
}

// perClientDetectStreams is MaxDetectStreamsPerClient, 0 meaning a
// quarter of MaxDetectStreams (at least 1).
func (c Config) perClientDetectStreams() int {
	if c.MaxDetectStreamsPerClient > 0 {
		return c.MaxDetectStreamsPerClient
	}
	return max(c.MaxDetectStreams/4, 1)
}

// streamSlots bounds open streams in total and per client, refusing one
// beyond either with a *LimitError naming limit: Detect streams
// (MaxDetectStreams, MaxDetectStreamsPerClient) and the Hub's watchers
// (newWatchSlots). Safe for concurrent use.
type streamSlots struct {
	limit     string
	max, per  int
	mu        sync.Mutex
	total     int            // guarded by mu
	perClient map[string]int // guarded by mu; entries of 0 are deleted
}

func newStreamSlots(limit string, max, per int) *streamSlots {
	return &streamSlots{limit: limit, max: max, per: per, perClient: make(map[string]int)}
}

// acquire takes a slot for client, or reports the limit broken.
func (w *streamSlots) acquire(client string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.total >= w.max {
		return &LimitError{Limit: w.limit, Max: w.max, Got: w.total + 1}
	}
	if n := w.perClient[client]; n >= w.per {
		return &LimitError{Limit: w.limit, Detail: fmt.Sprintf("%d per client", w.per)}
	}
	w.total++
	w.perClient[client]++
	return nil
}

func (w *streamSlots) release(client string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total--
	if w.perClient[client]--; w.perClient[client] <= 0 {
		delete(w.perClient, client)
	}
}
