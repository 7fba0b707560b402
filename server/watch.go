package server

import (
	"sync"

	"github.com/astraguard/astraguard/breaker"
)

// watchBuffer is how many transitions a watcher may lag behind. Breakers
// transition rarely; a watcher that falls this far behind is cut off rather
// than allowed to slow the breaker or grow memory.
const watchBuffer = 256

// Hub fans breaker transitions out to WatchBreakers streams. Its Publish
// method is a breaker.Observer; it never blocks the breaker.
type Hub struct {
	mu       sync.Mutex
	watchers map[*watcher]struct{} // guarded by mu
	closed   bool                  // guarded by mu
}

type watcher struct {
	ch   chan breaker.Transition
	lost chan struct{} // closed when the watcher fell behind or the hub closed
}

// NewHub returns a Hub with no watchers.
func NewHub() *Hub { return &Hub{watchers: make(map[*watcher]struct{})} }

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

// Subscribe registers a watcher as WatchBreakers does, for other
// transports such as the HTTP breaker page. events delivers transitions;
// lost is closed when the watcher fell watchBuffer transitions behind or
// the hub closed (at shutdown), after which the caller should end its
// stream; cancel unsubscribes and must be called.
func (h *Hub) Subscribe() (events <-chan breaker.Transition, lost <-chan struct{}, cancel func()) {
	w := h.subscribe()
	return w.ch, w.lost, func() { h.unsubscribe(w) }
}
