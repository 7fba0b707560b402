package client

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// partition carries the calls of one partition key over as many Detect
// streams as it takes, one at a time. Its goroutine (run) opens each
// stream and sends on it; a second goroutine per stream receives.
type partition struct {
	c     *Client
	key   string
	room  chan struct{} // one token per pending call, capacity MaxPending
	wake  chan struct{} // capacity 1: work queued or a rotation asked for
	users int           // guarded by c.mu; callers between acquire and release

	mu      sync.Mutex
	pending []*Call          // guarded by mu; unanswered, in the order of Go
	byID    map[string]*Call // guarded by mu; pending by request id
	sent    int              // guarded by mu; pending[:sent] went out on the current stream
	rotate  bool             // guarded by mu; close the stream once answered
}

func newPartition(c *Client, key string) *partition {
	return &partition{
		c: c, key: key,
		room: make(chan struct{}, c.cfg.MaxPending),
		wake: make(chan struct{}, 1),
		byID: map[string]*Call{},
	}
}

func (p *partition) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *partition) pendingLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

func (p *partition) requestRotate() {
	p.mu.Lock()
	p.rotate = true
	p.mu.Unlock()
	p.signal()
}

// enqueue waits for room, then makes call pending.
func (p *partition) enqueue(ctx context.Context, call *Call) error {
	select {
	case p.room <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.c.closed:
		return ErrClosed
	}
	p.mu.Lock()
	if _, dup := p.byID[call.Request.RequestId]; dup {
		p.mu.Unlock()
		<-p.room
		return fmt.Errorf("request %q: %w", call.Request.RequestId, ErrDuplicateID)
	}
	p.pending = append(p.pending, call)
	p.byID[call.Request.RequestId] = call
	p.mu.Unlock()
	p.signal()
	return nil
}

// run is the partition's goroutine: it waits for work, carries it over
// streams, re-opens failed ones with backoff, and retires the partition
// once idle.
func (p *partition) run() {
	cfg := p.c.cfg
	attempts, backoff, reopen := 0, cfg.Backoff, false
	for {
		if !p.awaitWork() {
			return
		}
		answered, err := p.stream(reopen)
		if answered {
			attempts, backoff = 0, cfg.Backoff
		}
		if err == nil {
			reopen = false
			continue
		}
		if p.isClosed() {
			p.failAll(ErrClosed)
			return
		}
		attempts++
		if !p.c.opt.retryable(err) || attempts > cfg.MaxAttempts {
			p.c.log.Warn("giving up on partition", "key", p.key, "attempts", attempts, "err", err)
			p.failAll(fmt.Errorf("partition %q: %w", p.key, err))
			attempts, backoff, reopen = 0, cfg.Backoff, false
			continue
		}
		p.c.log.Debug("stream failed, re-opening", "key", p.key, "attempt", attempts, "backoff", backoff, "err", err)
		reopen = true
		select {
		case <-p.c.closed:
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, cfg.MaxBackoff)
	}
}

func (p *partition) isClosed() bool {
	select {
	case <-p.c.closed:
		return true
	default:
		return false
	}
}

// awaitWork waits until a call is pending. It returns false, once the
// partition is retired (idle for IdleTimeout) or the client closed.
func (p *partition) awaitWork() bool {
	idle := time.NewTimer(p.c.cfg.IdleTimeout)
	defer idle.Stop()
	for {
		p.mu.Lock()
		n := len(p.pending)
		p.rotate = false // a new stream goes where the ring picks anyway
		p.mu.Unlock()
		if n > 0 {
			return true
		}
		select {
		case <-p.c.closed:
			p.failAll(ErrClosed) // calls queued since the check
			return false
		case <-p.wake:
		case <-idle.C:
			if p.c.retire(p) {
				return false
			}
			idle.Reset(p.c.cfg.IdleTimeout)
		}
	}
}

// failAll completes every pending call with err.
func (p *partition) failAll(err error) {
	p.mu.Lock()
	calls := p.pending
	p.pending, p.sent = nil, 0
	clear(p.byID)
	p.mu.Unlock()
	for _, call := range calls {
		call.Err = err
		p.complete(call)
	}
}

// complete frees call's slot and delivers it.
func (p *partition) complete(call *Call) {
	<-p.room
	call.Done <- call
}

// ack completes the pending call resp answers; a response for no pending
// request is a duplicate and dropped.
func (p *partition) ack(call *Call, ok bool, replica string) bool {
	if !ok {
		p.c.m.duplicate(replica)
		return false
	}
	call.Replica = replica
	p.complete(call)
	return true
}

// take removes the call with request id id from pending.
func (p *partition) take(id string) (*Call, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	call, ok := p.byID[id]
	if !ok {
		return nil, false
	}
	delete(p.byID, id)
	i := slices.Index(p.pending, call) // 0 unless the server broke the order
	if i == 0 {
		p.pending[0] = nil
		p.pending = p.pending[1:]
	} else {
		p.pending = slices.Delete(p.pending, i, i+1)
	}
	if i < p.sent {
		p.sent--
	}
	return call, true
}

// next returns the next call to send on the current stream, or whether a
// rotation is due once nothing is left to send.
func (p *partition) next() (call *Call, resent, rotate bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rotate {
		return nil, false, true // what is not sent yet goes on the next stream
	}
	if p.sent < len(p.pending) {
		call = p.pending[p.sent]
		p.sent++
		call.sends++
		return call, call.sends > 1, false
	}
	return nil, false, p.rotate
}

// unsent marks every pending call unsent: a new stream sends them all
// again, in order.
func (p *partition) unsent() {
	p.mu.Lock()
	p.sent = 0
	p.mu.Unlock()
}
