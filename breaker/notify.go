package breaker

// unlock releases mu, then gives queued transitions to the observers and
// refills the jitter sample, both outside the lock (a user callback never
// runs under mu, so an observer may read or steer the breaker). One
// goroutine at a time drains the queue, which keeps observers in transition
// order; a transition queued meanwhile, even by an observer calling back
// into the breaker, is picked up by the draining loop.
func (b *Breaker) unlock() {
	refill := b.jitterUsed
	b.jitterUsed = false
	if b.delivering || len(b.queue) == 0 {
		b.mu.Unlock()
		if refill {
			b.refillJitter()
		}
		return
	}
	b.delivering = true
	q := b.queue
	b.queue = nil
	b.mu.Unlock()
	if refill {
		b.refillJitter()
	}
	b.drain(q)
}

// drain calls the observers for q and for anything queued meanwhile. It is
// entered with delivering set and mu unlocked.
func (b *Breaker) drain(q []Transition) {
	finished := false
	defer func() {
		if !finished { // an observer panicked: let the next unlock deliver
			b.mu.Lock()
			b.delivering = false
			b.mu.Unlock()
		}
	}()
	for len(q) > 0 {
		for _, t := range q {
			for _, obs := range b.o.observers {
				obs(t)
			}
		}
		b.mu.Lock()
		q = b.queue
		b.queue = nil
		if len(q) == 0 {
			b.delivering = false
		}
		b.mu.Unlock()
	}
	finished = true
}

// refillJitter draws the next trip's jitter sample outside the lock.
func (b *Breaker) refillJitter() {
	r := b.o.random()
	b.mu.Lock()
	b.jitter = r
	b.mu.Unlock()
}
