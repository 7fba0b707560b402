package breaker_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/astraguard/astraguard/breaker"
)

// breaker starts no goroutines; goleak proves the tests leave none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCallsDoNotAllocate(t *testing.T) {
	tests := []struct {
		name string
		s    breaker.Settings
		trip bool
	}{
		{"closed fast path", breaker.Settings{}, false},
		{"closed with windows", breaker.Settings{CountWindow: breaker.CountWindow{Size: 100}, TimeWindow: breaker.TimeWindow{Length: time.Minute}}, false},
		{"open rejection", breaker.Settings{FailureThreshold: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.s)
			if tt.trip {
				fail(1)(h)
			}
			allocs := testing.AllocsPerRun(100, func() {
				tk, err := h.b.Allow()
				if err == nil {
					h.b.Done(tk, nil)
				}
				_ = h.b.Execute(func() error { return nil })
			})
			if allocs != 0 {
				t.Fatalf("Allow+Done+Execute allocated %v times per run, want 0", allocs)
			}
		})
	}
}
