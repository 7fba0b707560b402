// Package protolimittest holds what the tests of a decode budget share
// (protolimit.Budget, through a codec or a server): a Gate that holds
// every decode that took the budget until the test opens it, so a test
// can start more concurrent calls than the budget fits and check that the
// rest wait. Imported by tests only. No API stability promise.
package protolimittest

import (
	"sync"
	"testing"
)

// Gate counts the decodes that hold a budget and those that wait for it,
// and keeps the holders holding until Open. Its Held and Wait are the
// budget's hooks (protolimit.WithHeld, protolimit.WithWait, or a
// server's). Safe for concurrent use.
type Gate struct {
	holders chan int64
	waits   chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	max     int64 // most bytes held at once; guarded by mu
}

// NewGate is a Gate for up to calls concurrent decodes, opened when t
// ends if the test has not opened it.
func NewGate(t testing.TB, calls int) *Gate {
	g := &Gate{holders: make(chan int64, calls), waits: make(chan struct{}, calls), release: make(chan struct{})}
	t.Cleanup(g.Open)
	return g
}

// Held records that a decode took the budget, which now holds held bytes,
// and blocks it until Open.
func (g *Gate) Held(held int64) {
	g.mu.Lock()
	g.max = max(g.max, held)
	g.mu.Unlock()
	g.holders <- held
	<-g.release
}

// Wait records that a decode waits for the budget.
func (g *Gate) Wait() { g.waits <- struct{}{} }

// Await returns once fit decodes hold the budget and calls-fit wait for
// it, failing t if a holder finds more than bound bytes held, or if a call
// ends (errs) while the gate is shut: it was decoded outside the budget.
func (g *Gate) Await(t testing.TB, calls, fit int, bound int64, errs <-chan error) {
	t.Helper()
	for held, waited := 0, 0; held < fit || waited < calls-fit; {
		select {
		case n := <-g.holders:
			held++
			if n > bound {
				t.Fatalf("decoding %d bytes at once (%d decodes), want at most %d", n, held, bound)
			}
		case <-g.waits:
			waited++
		case err := <-errs:
			t.Fatalf("a call ended (%v) while the budget was held: decoded outside it", err)
		}
	}
}

// Open lets the holders go; later decodes pass at once.
func (g *Gate) Open() { g.once.Do(func() { close(g.release) }) }

// Max is the most bytes the budget held at once.
func (g *Gate) Max() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max
}
