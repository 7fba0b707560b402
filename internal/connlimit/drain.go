package connlimit

import (
	"net"
	"net/http"
	"sync"
)

// DrainIdle lets connections waiting for a full HTTP listener take the
// places of idle keep-alive connections, as nginx reuses its keep-alive
// connections when it runs out: while lis is full, a connection of hs that
// turns idle is closed instead of kept, and each accept that fills lis
// closes the connection idle longest. A closed keep-alive connection costs
// its client a reconnect; without this, clients keeping Max connections
// open and idle would make every other one wait for hs.IdleTimeout
// (minutes). lis must be a listener Wrap returned, and DrainIdle is called
// before hs serves; it sets hs.ConnState, calling any hook set before.
func DrainIdle(hs *http.Server, lis net.Listener) {
	cl, ok := lis.(*countedListener)
	if !ok {
		return
	}
	d := &idleSet{conns: map[net.Conn]uint64{}}
	cl.idle = d
	prev := hs.ConnState
	hs.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateIdle:
			// Add first, then check: an accept that fills the
			// listener between a check and an add would find the set
			// without c, and c would stay open, idle, for good.
			// take counts the accept before closeOldest runs, so
			// either the check sees the listener full or
			// closeOldest sees c.
			d.add(c)
			if cl.full() {
				d.remove(c)
				_ = c.Close()
			}
		case http.StateActive, http.StateClosed, http.StateHijacked:
			d.remove(c)
		}
		if prev != nil {
			prev(c, st)
		}
	}
}

// idleSet holds an HTTP server's idle connections in the order they
// turned idle.
type idleSet struct {
	mu    sync.Mutex
	seq   uint64              // guarded by mu
	conns map[net.Conn]uint64 // idle since seq; guarded by mu
}

func (d *idleSet) add(c net.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	d.conns[c] = d.seq
}

func (d *idleSet) remove(c net.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.conns, c)
}

// closeOldest closes the connection idle longest, if any. The scan is
// linear, but it runs only on an accept that fills the listener.
func (d *idleSet) closeOldest() {
	d.mu.Lock()
	var oldest net.Conn
	var since uint64
	for c, s := range d.conns {
		if oldest == nil || s < since {
			oldest, since = c, s
		}
	}
	delete(d.conns, oldest)
	d.mu.Unlock()
	if oldest != nil {
		_ = oldest.Close()
	}
}
