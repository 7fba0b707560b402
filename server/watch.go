package server

import (
	"sync"

	"github.com/astraguard/astraguard/breaker"
)

// watchBuffer is how many transitions a watcher may lag behind. Breakers
// transition rarely; a watcher that falls this far behind is cut off rather
// than allowed to slow the breaker or grow memory.
const watchBuffer = 256

// Hub fans breaker transitions out to WatchBreakers streams and the
// breaker page's event streams. Its Publish method is a breaker.Observer;
// it never blocks the breaker. All its watchers share one bound:
// Config.MaxWatchStreams in total and MaxWatchStreamsPerClient per client
// (the Server sets them in New).
type Hub struct {
	mu       sync.Mutex
	watchers map[*watcher]struct{} // guarded by mu
	closed   bool                  // guarded by mu
	slots    *streamSlots          // guarded by mu
	metrics  *limitMetrics         // counts refused watchers; guarded by mu
}

type watcher struct {
	ch   chan breaker.Transition
	lost chan struct{} // closed when the watcher fell behind or the hub closed
}

// NewHub returns a Hub with no watchers and the default watcher bounds.
func NewHub() *Hub {
	return &Hub{watchers: make(map[*watcher]struct{}), slots: newWatchSlots(0, 0), metrics: newLimitMetrics(nil)}
}

// setLimits bounds the watchers by slots and counts refusals in m.
func (h *Hub) setLimits(slots *streamSlots, m *limitMetrics) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.slots, h.metrics = slots, m
}

// watch takes one of client's watcher slots and subscribes; release
// undoes both and must be called. A refusal is a *LimitError.
func (h *Hub) watch(client string) (w *watcher, release func(), err error) {
	h.mu.Lock()
	slots, m := h.slots, h.metrics
	h.mu.Unlock()
	if err := slots.acquire(client); err != nil {
		m.count(err)
		return nil, nil, err
	}
	w = h.subscribe()
	return w, func() { h.unsubscribe(w); slots.release(client) }, nil
}

// Publish delivers t to every watcher; pass it to breaker.WithObserver.
func (h *Hub) Publish(t breaker.Transition) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers {
		select {
		case w.ch <- t:
		default:
			h.dropLocked(w)
		}
	}
}

func (h *Hub) subscribe() *watcher {
	w := &watcher{ch: make(chan breaker.Transition, watchBuffer), lost: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(w.lost)
		return w
	}
	h.watchers[w] = struct{}{}
	return w
}

func (h *Hub) unsubscribe(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watchers[w]; ok {
		h.dropLocked(w)
	}
}

func (h *Hub) dropLocked(w *watcher) {
	delete(h.watchers, w)
	close(w.lost)
}

// close ends every watch; later subscribers end at once.
func (h *Hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for w := range h.watchers {
		h.dropLocked(w)
	}
}

// Subscribe registers a watcher for client as WatchBreakers does, for
// other transports such as the HTTP breaker page, within the same bounds
// (a refusal is a *LimitError naming LimitWatchStreams). events delivers
// transitions; lost is closed when the watcher fell watchBuffer
// transitions behind or the hub closed (at shutdown), after which the
// caller should end its stream; cancel unsubscribes, frees the slot and
// must be called.
func (h *Hub) Subscribe(client string) (events <-chan breaker.Transition, lost <-chan struct{}, cancel func(), err error) {
	w, release, err := h.watch(client)
	if err != nil {
		return nil, nil, nil, err
	}
	return w.ch, w.lost, sync.OnceFunc(release), nil
}
