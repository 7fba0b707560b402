package server

import "sync"

// room is the waiting room of MaxQueuedBytes (1/waitingShare of it): the
// decoded requests that wait for admission, for room in the rest of the
// budget or for their client's rate budget. gRPC decodes a message before
// the handler sees it, so a decoded request is in memory already: take
// counts it at once and never waits, and one that does not fit is
// refused (LimitQueuedBytes) rather than held uncounted. (A reader that
// waited for this room before reading could hold up its own stream's
// end, and with it the response charge that the requests in the room
// wait for.) room is safe for concurrent use.
type room struct {
	size int64
	mu   sync.Mutex
	used int64 // guarded by mu
}

func newRoom(size int64) *room { return &room{size: size} }

// take counts n bytes if they fit, or, in an empty room, whatever n is:
// a request larger than the whole room is held alone, never refused for
// its size (MaxRecvMsgBytes bounds it).
func (r *room) take(n int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.used > 0 && r.used+n > r.size {
		return false
	}
	r.used += n
	return true
}

func (r *room) release(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.used -= n
}
