package bench

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/astraguard/astraguard/breaker"
)

// errResult is what the guarded function returns: always nil, but the
// compiler cannot know, so no call is optimized away.
var errResult error

//go:noinline
func guarded() error { return errResult }

func guardedT() (struct{}, error) { return struct{}{}, guarded() }

var errDown = errors.New("down")

func failing() error { return errDown }

func failingT() (struct{}, error) { return struct{}{}, errDown }

// A closed-state candidate: setup returns the per-call function to measure.
type candidate struct {
	name  string
	setup func(tb testing.TB) func() error
}

func newAstra(tb testing.TB, s breaker.Settings) *breaker.Breaker {
	b, err := breaker.New("bench", s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var closed = []candidate{
	{"direct", func(testing.TB) func() error { return guarded }},
	{"astraguard-twostep", func(tb testing.TB) func() error {
		b := newAstra(tb, breaker.Settings{})
		return func() error {
			t, err := b.Allow()
			if err != nil {
				return err
			}
			err = guarded()
			b.Done(t, err)
			return err
		}
	}},
	{"astraguard-execute", func(tb testing.TB) func() error {
		b := newAstra(tb, breaker.Settings{})
		return func() error { return b.Execute(guarded) }
	}},
	{"gobreaker-execute", func(testing.TB) func() error {
		cb := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{Name: "bench"})
		return func() error { _, err := cb.Execute(guardedT); return err }
	}},
	{"gobreaker-twostep", func(testing.TB) func() error {
		cb := gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{Name: "bench"})
		return func() error {
			done, err := cb.Allow()
			if err != nil {
				return err
			}
			err = guarded()
			done(err)
			return err
		}
	}},
	{"failsafe-run", func(testing.TB) func() error {
		exec := failsafe.With[any](circuitbreaker.NewWithDefaults[any]())
		return func() error { return exec.Run(guarded) }
	}},
	{"failsafe-permit", func(testing.TB) func() error {
		cb := circuitbreaker.NewWithDefaults[any]()
		return func() error {
			if !cb.TryAcquirePermit() {
				return circuitbreaker.ErrOpen
			}
			err := guarded()
			if err != nil {
				cb.RecordFailure()
			} else {
				cb.RecordSuccess()
			}
			return err
		}
	}},
}

// open holds candidates tripped OPEN with a long recovery wait.
var open = []candidate{
	{"astraguard", func(tb testing.TB) func() error {
		b := newAstra(tb, breaker.Settings{FailureThreshold: 1, RecoveryTimeout: time.Hour})
		_ = b.Execute(failing)
		return func() error { _, err := b.Allow(); return err }
	}},
	{"gobreaker", func(testing.TB) func() error {
		cb := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{Timeout: time.Hour,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 }})
		_, _ = cb.Execute(failingT)
		return func() error { _, err := cb.Execute(guardedT); return err }
	}},
	{"failsafe", func(testing.TB) func() error {
		cb := circuitbreaker.NewBuilder[any]().WithDelay(time.Hour).Build()
		cb.Open()
		exec := failsafe.With[any](cb)
		return func() error { return exec.Run(guarded) }
	}},
}

func runSerial(b *testing.B, cs []candidate, wantErr bool) {
	for _, c := range cs {
		b.Run(c.name, func(b *testing.B) {
			call := c.setup(b)
			for b.Loop() {
				if err := call(); (err != nil) != wantErr {
					b.Fatalf("call() = %v", err)
				}
			}
		})
	}
}

func runParallel(b *testing.B, cs []candidate, wantErr bool) {
	for _, c := range cs {
		b.Run(c.name, func(b *testing.B) {
			call := c.setup(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := call(); (err != nil) != wantErr {
						panic(err) // b.Fatal must not be called from RunParallel goroutines
					}
				}
			})
		})
	}
}

func BenchmarkClosed(b *testing.B)         { runSerial(b, closed, false) }
func BenchmarkClosedParallel(b *testing.B) { runParallel(b, closed, false) }
func BenchmarkOpen(b *testing.B)           { runSerial(b, open, true) }
func BenchmarkOpenParallel(b *testing.B)   { runParallel(b, open, true) }

// BenchmarkMemory reports the heap each breaker keeps (B/breaker, measured
// over 1000 live breakers) and, with -benchmem, what creating one allocates.
func BenchmarkMemory(b *testing.B) {
	makers := []struct {
		name string
		mk   func() any
	}{
		{"astraguard", func() any { return newAstra(b, breaker.Settings{}) }},
		{"gobreaker", func() any { return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{Name: "bench"}) }},
		{"failsafe", func() any { return circuitbreaker.NewWithDefaults[any]() }},
	}
	for _, m := range makers {
		b.Run(m.name, func(b *testing.B) {
			perBreaker := retained(m.mk)
			for b.Loop() {
				_ = m.mk()
			}
			b.ReportMetric(perBreaker, "B/breaker")
		})
	}
}

func retained(mk func() any) float64 {
	const n = 1000
	keep := make([]any, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = mk()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(after.HeapAlloc-before.HeapAlloc) / n
}
