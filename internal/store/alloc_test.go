package store_test

import (
	"fmt"
	"testing"

	"github.com/astraguard/astraguard/internal/store"
)

// TestAcquireExistingDoesNotAllocate is skipped under -race, which makes
// allocation counts meaningless; `make test` runs it without -race.
func TestAcquireExistingDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under -race; make test runs this test without it")
	}
	tb := newTable(t, store.Config{})
	add(tb, "sat1/voltage", t0, 1)
	allocs := testing.AllocsPerRun(1000, func() { add(tb, "sat1/voltage", t0, 1) })
	if allocs != 0 {
		t.Errorf("Acquire of a known id allocates %v times, want 0", allocs)
	}
}

func BenchmarkAcquire(b *testing.B) {
	tb := newTable(b, store.Config{})
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("sat%d/channel-%d", i%97, i)
		add(tb, ids[i], t0, 1)
	}
	i := 0
	for b.Loop() {
		r := tb.Acquire(ids[i%len(ids)], t0)
		r.Release()
		i++
	}
}

func BenchmarkChurn(b *testing.B) {
	tb := newTable(b, store.Config{Capacity: 10_000})
	i := 0
	for b.Loop() {
		r := tb.Acquire(fmt.Sprint(i), t0)
		r.Release()
		i++
	}
}
