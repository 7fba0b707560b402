package breaker

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// atomicClock is a fake Clock that many goroutines may advance.
type atomicClock struct{ ns atomic.Int64 }

func (c *atomicClock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

func (c *atomicClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestHammer runs random calls, clock steps and operator actions from many
// goroutines (under -race) and checks that no generation ever has more than
// MaxProbes probes out, that observers see transitions in order, that the
// totals add up, and that the breaker still recovers afterwards.
func TestHammer(t *testing.T) {
	fast := Settings{FailureThreshold: 3, MaxProbes: 2, SuccessThreshold: 2, RecoveryTimeout: time.Millisecond,
		ProbeTimeout: 5 * time.Millisecond}
	windows := fast
	windows.CountWindow = CountWindow{Size: 20, MinCalls: 10}
	windows.TimeWindow = TimeWindow{Length: 10 * time.Millisecond, MinCalls: 5}
	windows.SlowCall = SlowCall{Duration: time.Millisecond, Ratio: 0.5}
	for name, s := range map[string]Settings{"fast path": fast, "windows": windows} {
		t.Run(name, func(t *testing.T) { hammer(t, s) })
	}
}

func hammer(t *testing.T, s Settings) {
	const workers, callsPerWorker, maxProbes = 8, 3000, 2
	clock := &atomicClock{}
	var mu sync.Mutex
	var seen []Transition
	obs := func(tr Transition) { mu.Lock(); seen = append(seen, tr); mu.Unlock() }
	b, err := New("hammer", s, WithClock(clock), WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	var probesMu sync.Mutex
	probes := map[uint64]int{} // generation -> probes out
	var admitted, rejectedSeen atomic.Uint64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range callsPerWorker {
				step(t, b, clock, r, &probesMu, probes, &admitted, &rejectedSeen, maxProbes)
			}
		})
	}
	wg.Wait()

	tot := b.Snapshot().Totals
	if got := tot.Successes + tot.Failures + tot.Ignored + tot.Dropped; got != admitted.Load()+tot.ProbeTimeouts {
		t.Errorf("outcomes %d (%+v), want admitted %d + probe timeouts %d", got, tot, admitted.Load(), tot.ProbeTimeouts)
	}
	if tot.Rejected != rejectedSeen.Load() {
		t.Errorf("Rejected = %d, want %d", tot.Rejected, rejectedSeen.Load())
	}
	if probes[^uint64(0)] == 0 || tot.Trips == 0 || tot.Recoveries == 0 {
		t.Errorf("hammer never probed, tripped or recovered: %d probes, %+v", probes[^uint64(0)], tot)
	}
	t.Logf("probes %d, totals %+v", probes[^uint64(0)], tot)
	mu.Lock()
	for i := 1; i < len(seen); i++ {
		if seen[i].From != seen[i-1].To {
			t.Fatalf("transition %d %+v does not follow %+v", i, seen[i], seen[i-1])
		}
	}
	mu.Unlock()
	b.ClearForce()
	for i := 0; b.State() != StateClosed; i++ { // never stuck
		if i > 100 {
			t.Fatalf("breaker did not close: %+v", b.Snapshot())
		}
		clock.Advance(time.Second)
		_ = b.Execute(func() error { return nil })
	}
}

func step(t *testing.T, b *Breaker, clock *atomicClock, r *rand.Rand, probesMu *sync.Mutex, probes map[uint64]int, admitted, rejected *atomic.Uint64, maxProbes int) {
	switch n := r.IntN(1000); {
	case n < 30:
		clock.Advance(time.Duration(r.IntN(3)) * time.Millisecond)
		return
	case n < 32:
		b.ForceOpen("hammer", time.Millisecond)
		return
	case n < 34:
		b.ForceClosed("hammer", time.Millisecond)
		return
	case n < 35:
		b.Reset()
		return
	}
	tk, err := b.Allow()
	if err != nil {
		if !errors.Is(err, ErrOpen) {
			t.Errorf("Allow() = %v, want ErrOpen", err)
		}
		rejected.Add(1)
		return
	}
	admitted.Add(1)
	gen := tk >> ticketGenShift
	if ticketSlot(tk) != 0 {
		probesMu.Lock()
		probes[gen]++
		probes[^uint64(0)]++ // all probes ever, to prove the HALF_OPEN path ran
		if probes[gen] > maxProbes {
			t.Errorf("generation %d has %d probes out, max %d", gen, probes[gen], maxProbes)
		}
		probesMu.Unlock()
	}
	if r.IntN(50) == 0 {
		clock.Advance(time.Millisecond) // a slow call
	}
	if ticketSlot(tk) != 0 {
		// The probe ends before it reports: once Done returns its permit,
		// another goroutine may take it at once.
		probesMu.Lock()
		probes[gen]--
		probesMu.Unlock()
	}
	switch r.IntN(4) {
	case 0:
		b.Done(tk, errors.New("model down"))
	case 1:
		b.Done(tk, context.Canceled)
	default:
		b.Done(tk, nil)
	}
}
