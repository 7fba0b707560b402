package httpui

import (
	"iter"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

// historyLen is how many recent transitions the page shows per breaker.
const historyLen = 20

// Hub is the transition feed; *server.Hub satisfies it. Subscribe may
// refuse a client (a bound on open streams); the page then answers 429
// with the error.
type Hub interface {
	Subscribe(client string) (events <-chan breaker.Transition, lost <-chan struct{}, cancel func(), err error)
}

// Breakers lists the breakers; *breaker.Registry satisfies it.
type Breakers interface {
	Snapshot() []breaker.Snapshot
}

// Anomalies is the anomaly view; *anomalyview.View satisfies it. It
// renders its own JSON, so the page relays it without knowing the
// detector's types.
type Anomalies interface {
	// Feed returns the JSON array of the anomalies newer than seq after,
	// newest first, and the newest seq; nil data when the view is off.
	Feed(after uint64) (data []byte, last uint64)
	// Context returns the JSON of a kept series' recent samples, or false.
	Context(series string) ([]byte, bool)
	// Traffic yields the verdicts counted so far by source and reason.
	Traffic() iter.Seq2[string, uint64]
}

// Clock tells the time stamped on each state event.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Option configures a UI.
type Option func(*UI)

// WithClock sets the clock of the state events' timestamps (default the
// system clock).
func WithClock(c Clock) Option { return func(u *UI) { u.clock = c } }

// WithClientKey names the client of a request, for the Hub's per-client
// bound (default: the host of its RemoteAddr).
func WithClientKey(f func(*http.Request) string) Option { return func(u *UI) { u.clientKey = f } }

// WithTick sets how often /events sends the full state (default 1s; the
// sparkline's resolution).
func WithTick(d time.Duration) Option { return func(u *UI) { u.tick = d } }

// WithAnomalies shows a's anomaly feed, series context and verdict
// traffic on the page (default none: the page shows the breakers only).
func WithAnomalies(a Anomalies) Option { return func(u *UI) { u.anomalies = a } }

// WithLogger sets the logger of stream errors (default discard).
func WithLogger(l *slog.Logger) Option { return func(u *UI) { u.logger = l } }

// WithAnomalyAccess decides who may see the anomaly data: the feed and a
// series' recent samples, that is series ids and values, the clients'
// telemetry. check returns 0 for a request allowed it, else the HTTP
// status (401 gets a Bearer challenge) and the message of the refusal.
// The page's event stream then carries no anomalies, only a note that
// they need credentials. Default: whoever the page serves sees them.
func WithAnomalyAccess(check func(*http.Request) (status int, msg string)) Option {
	return func(u *UI) { u.anomalyAccess = check }
}

// UI is the breaker page. Build it with New, pass Record to
// breaker.WithObserver, run Run (the charts' history) and serve Handler.
type UI struct {
	hub       Hub
	clock     Clock
	tick      time.Duration
	logger    *slog.Logger
	clientKey func(*http.Request) string
	anomalies Anomalies // nil: no anomaly view
	// anomalyAccess returns 0 when a request may see the anomaly data.
	anomalyAccess func(*http.Request) (int, string)
	fallbacks     *history // per breaker, sampled by Run
	traffic       *history // per verdict category, sampled by Run

	mu      sync.Mutex
	history map[string][]breaker.Transition // guarded by mu; newest last, at most historyLen
}

// New returns a UI fed by hub.
func New(hub Hub, opts ...Option) *UI {
	u := &UI{hub: hub, clock: realClock{}, tick: time.Second, logger: slog.New(slog.DiscardHandler),
		clientKey: remoteHost, history: make(map[string][]breaker.Transition),
		anomalyAccess: func(*http.Request) (int, string) { return 0, "" },
		fallbacks:     newHistory(), traffic: newHistory()}
	for _, o := range opts {
		o(u)
	}
	if u.tick <= 0 {
		u.tick = time.Second
	}
	return u
}

// remoteHost is the default client key: the host of r's RemoteAddr.
func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Record keeps t in its breaker's recent transitions; it is a
// breaker.Observer and never blocks.
func (u *UI) Record(t breaker.Transition) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h := append(u.history[t.Name], t)
	if len(h) > historyLen {
		h = append(h[:0:0], h[len(h)-historyLen:]...)
	}
	u.history[t.Name] = h
}

// recent returns name's transitions, newest first.
func (u *UI) recent(name string) []breaker.Transition {
	u.mu.Lock()
	defer u.mu.Unlock()
	h := u.history[name]
	out := make([]breaker.Transition, len(h))
	for i, t := range h {
		out[len(h)-1-i] = t
	}
	return out
}
