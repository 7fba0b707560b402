package store_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/store"
)

var t0 = time.Unix(1_700_000_000, 0)

func newTable(t testing.TB, cfg store.Config) *store.Table[int] {
	t.Helper()
	tb, err := store.New[int](cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	return tb
}

// add acquires id at now, sets its value to v and reports whether it was
// created.
func add(tb *store.Table[int], id string, now time.Time, v int) bool {
	r := tb.Acquire(id, now)
	defer r.Release()
	*r.Value() += v
	return r.Created()
}

func get(tb *store.Table[int], id string) (int, bool) {
	v, ok := 0, false
	tb.Range(func(got string, p *int) bool {
		if got == id {
			v, ok = *p, true
			return false
		}
		return true
	})
	return v, ok
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []store.Config{{Capacity: -1}, {TTL: -time.Second}, {Shards: 3}, {Shards: -2}} {
		if _, err := store.New[int](cfg); err == nil {
			t.Errorf("New(%+v) = nil error, want one", cfg)
		}
	}
}

func TestAcquireCreatesOnceAndKeepsValue(t *testing.T) {
	tb := newTable(t, store.Config{})
	if !add(tb, "a", t0, 1) {
		t.Fatal("first Acquire(a).Created() = false, want true")
	}
	if add(tb, "a", t0, 2) {
		t.Fatal("second Acquire(a).Created() = true, want false")
	}
	if v, _ := get(tb, "a"); v != 3 {
		t.Errorf("value of a = %d, want 3", v)
	}
	if tb.Len() != 1 {
		t.Errorf("Len() = %d, want 1", tb.Len())
	}
}

func TestIDIsACopy(t *testing.T) {
	tb := newTable(t, store.Config{})
	buf := []byte("series-1")
	r := tb.Acquire(string(buf[:6]), t0)
	id := r.ID()
	r.Release()
	buf[0] = 'X'
	if id != "series" {
		t.Errorf("ID() = %q after the caller's buffer changed, want %q", id, "series")
	}
}

// TestMatchesMap drives random inserts, lookups and deletes against a plain
// map, so index growth and backward-shift deletion are checked together.
func TestMatchesMap(t *testing.T) {
	tb := newTable(t, store.Config{Capacity: 1 << 20, Shards: 2})
	want := map[string]int{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200_000 {
		id := fmt.Sprintf("s%d", r.IntN(5000))
		switch r.IntN(3) {
		case 0:
			if got, ok := want[id]; tb.Delete(id) != ok {
				t.Fatalf("op %d: Delete(%q) = %v, want %v (value %d)", i, id, !ok, ok, got)
			}
			delete(want, id)
		default:
			_, ok := want[id]
			if created := add(tb, id, t0, 1); created == ok {
				t.Fatalf("op %d: Acquire(%q).Created() = %v, want %v", i, id, created, !ok)
			}
			want[id]++
		}
	}
	got := map[string]int{}
	tb.Range(func(id string, v *int) bool { got[id] = *v; return true })
	if len(got) != len(want) || tb.Len() != len(want) {
		t.Fatalf("Range saw %d entries, Len() = %d, want %d", len(got), tb.Len(), len(want))
	}
	for id, v := range want {
		if got[id] != v {
			t.Errorf("value of %q = %d, want %d", id, got[id], v)
		}
	}
}

func TestCapacityEvictsNeverLocksOut(t *testing.T) {
	for _, shards := range []int{1, 4, 64} {
		t.Run(fmt.Sprint(shards), func(t *testing.T) {
			const capacity = 100
			tb := newTable(t, store.Config{Capacity: capacity, Shards: shards})
			for i := range 10 * capacity {
				if !add(tb, fmt.Sprint("id", i), t0, 1) {
					t.Fatalf("Acquire(id%d).Created() = false for a new id", i)
				}
				if tb.Len() > capacity {
					t.Fatalf("after %d ids Len() = %d, want <= %d", i+1, tb.Len(), capacity)
				}
			}
			if got := tb.Evicted(store.ReasonCapacity); got != 9*capacity {
				t.Errorf("Evicted(capacity) = %d, want %d", got, 9*capacity)
			}
			if got := tb.Evicted(store.ReasonTTL); got != 0 {
				t.Errorf("Evicted(ttl) = %d, want 0", got)
			}
		})
	}
}

// TestEvictsLeastRecentlyUsed: with one shard CLOCK keeps entries used
// since the hand last passed, so a working set that is touched survives a
// stream of one-off ids.
func TestEvictsLeastRecentlyUsed(t *testing.T) {
	tb := newTable(t, store.Config{Capacity: 10, Shards: 1})
	hot := []string{"h0", "h1", "h2", "h3"}
	for i := range 1000 {
		for _, id := range hot {
			add(tb, id, t0, 0)
		}
		add(tb, fmt.Sprint("cold", i), t0, 0)
	}
	for _, id := range hot {
		if add(tb, id, t0, 0) {
			t.Errorf("hot series %s was evicted by one-off ids", id)
		}
	}
}

func TestTTL(t *testing.T) {
	tb := newTable(t, store.Config{TTL: time.Minute})
	add(tb, "a", t0, 1)
	add(tb, "b", t0, 1)
	add(tb, "c", t0.Add(50*time.Second), 1)

	// a is looked up after its TTL: it starts afresh.
	if !add(tb, "a", t0.Add(61*time.Second), 5) {
		t.Error("Acquire(a) after the TTL: Created() = false, want true")
	}
	if v, _ := get(tb, "a"); v != 5 {
		t.Errorf("value of a after expiry = %d, want 5", v)
	}
	// Sweep removes b (idle 61s) but not c (idle 11s).
	if n := tb.Sweep(t0.Add(61 * time.Second)); n != 1 {
		t.Errorf("Sweep() = %d, want 1", n)
	}
	if _, ok := get(tb, "b"); ok {
		t.Error("b still present after Sweep")
	}
	if _, ok := get(tb, "c"); !ok {
		t.Error("c swept before its TTL")
	}
	if got := tb.Evicted(store.ReasonTTL); got != 2 {
		t.Errorf("Evicted(ttl) = %d, want 2", got)
	}
	if tb.Len() != 2 {
		t.Errorf("Len() = %d, want 2", tb.Len())
	}
}

func TestNoTTLSweepsNothing(t *testing.T) {
	tb := newTable(t, store.Config{})
	add(tb, "a", t0, 1)
	if n := tb.Sweep(t0.Add(1000 * time.Hour)); n != 0 || tb.Len() != 1 {
		t.Errorf("Sweep() = %d, Len() = %d, want 0, 1", n, tb.Len())
	}
}

func TestFullTableEvictsExpiredFirst(t *testing.T) {
	tb := newTable(t, store.Config{Capacity: 2, Shards: 1, TTL: time.Minute})
	add(tb, "old", t0, 1)
	add(tb, "new", t0.Add(90*time.Second), 1)
	add(tb, "newer", t0.Add(90*time.Second), 1)
	if _, ok := get(tb, "new"); !ok {
		t.Error("a fresh entry was evicted while an expired one remained")
	}
	if got := tb.Evicted(store.ReasonTTL); got != 1 {
		t.Errorf("Evicted(ttl) = %d, want 1", got)
	}
}

func TestRestoreKeepsLastSeen(t *testing.T) {
	src := newTable(t, store.Config{TTL: time.Hour})
	add(src, "a", t0, 7)
	add(src, "b", t0.Add(30*time.Minute), 8)

	dst := newTable(t, store.Config{TTL: time.Hour})
	src.RangeSeen(func(id string, seen time.Time, v *int) bool {
		dst.Restore(id, *v, seen)
		return true
	})
	seen := map[string]time.Time{}
	dst.RangeSeen(func(id string, s time.Time, v *int) bool { seen[id] = s; return true })
	if !seen["a"].Equal(t0) || !seen["b"].Equal(t0.Add(30*time.Minute)) {
		t.Errorf("restored last-seen = %v, want a at %v and b 30m later", seen, t0)
	}
	if add(dst, "b", t0.Add(80*time.Minute), 0) {
		t.Error("restored b recreated within its TTL")
	}
	if v, _ := get(dst, "b"); v != 8 {
		t.Errorf("restored value of b = %d, want 8", v)
	}
	if n := dst.Sweep(t0.Add(80 * time.Minute)); n != 1 {
		t.Errorf("Sweep() after restore = %d, want 1 (a idle 80m)", n)
	}
}

// TestTTLTrustsNoLastUse: a last-use time from a snapshot is not trusted
// to be sane. One far in the past (the int64 minimum) overflowed the idle
// time and never expired; one in the future (a snapshot written by a clock
// running ahead, or before this clock stepped back) kept its entry past
// the TTL for as long as it lay ahead. A sweep now counts the idle time of
// an entry last used "later than now" from now.
func TestTTLTrustsNoLastUse(t *testing.T) {
	tb := newTable(t, store.Config{TTL: time.Hour})
	tb.Restore("past", 1, time.Unix(0, math.MinInt64))
	tb.Restore("future", 2, t0.Add(1000*time.Hour))
	tb.Restore("far", 3, time.Unix(0, math.MaxInt64))
	if n := tb.Sweep(t0); n != 1 {
		t.Errorf("Sweep(t0) = %d, want 1 (past)", n)
	}
	if _, ok := get(tb, "past"); ok {
		t.Error("an entry last used at the int64 minimum survived a sweep")
	}
	if n := tb.Sweep(t0.Add(59 * time.Minute)); n != 0 {
		t.Errorf("Sweep(t0+59m) = %d, want 0 (the future entries count their idle time from t0)", n)
	}
	if n := tb.Sweep(t0.Add(61 * time.Minute)); n != 2 {
		t.Errorf("Sweep(t0+61m) = %d, want 2 (future, far)", n)
	}
	if tb.Len() != 0 {
		t.Errorf("Len() = %d, want 0", tb.Len())
	}

	// Acquire sees the past entry as expired too.
	tb.Restore("past", 1, time.Unix(0, math.MinInt64))
	if !add(tb, "past", t0, 5) {
		t.Error("Acquire(past) kept an entry last used at the int64 minimum")
	}
}

func TestRangeStops(t *testing.T) {
	tb := newTable(t, store.Config{})
	for i := range 100 {
		add(tb, fmt.Sprint(i), t0, 1)
	}
	n := 0
	tb.Range(func(string, *int) bool { n++; return n < 5 })
	if n != 5 {
		t.Errorf("Range visited %d entries after fn returned false at 5", n)
	}
}

// TestConcurrent hammers one table from several goroutines (run with
// -race): the live count stays within capacity and every entry's count of
// increments is exact for ids never evicted.
func TestConcurrent(t *testing.T) {
	const capacity = 500
	tb := newTable(t, store.Config{Capacity: capacity, Shards: 8, TTL: time.Hour})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 3))
			for i := range 5000 {
				switch r.IntN(10) {
				case 0:
					tb.Delete(fmt.Sprint(r.IntN(2000)))
				case 1:
					tb.Sweep(t0)
				case 2:
					tb.Range(func(string, *int) bool { return true })
				default:
					add(tb, fmt.Sprint(r.IntN(2000)), t0.Add(time.Duration(i)), 1)
				}
			}
		})
	}
	wg.Wait()
	if tb.Len() > capacity {
		t.Errorf("Len() = %d after the hammer, want <= %d", tb.Len(), capacity)
	}
	n := 0
	tb.Range(func(string, *int) bool { n++; return true })
	if n != tb.Len() {
		t.Errorf("Range saw %d entries, Len() = %d", n, tb.Len())
	}
}

func TestLookupNeitherCreatesNorTouches(t *testing.T) {
	tb := newTable(t, store.Config{TTL: time.Minute})
	if _, ok := tb.Lookup("a"); ok {
		t.Fatal("Lookup(a) on an empty table: ok = true")
	}
	add(tb, "a", t0, 4)
	r, ok := tb.Lookup("a")
	if !ok || *r.Value() != 4 {
		t.Fatalf("Lookup(a) = %v, %v; want 4, true", *r.Value(), ok)
	}
	r.Release()
	if n := tb.Sweep(t0.Add(61 * time.Second)); n != 1 {
		t.Errorf("Sweep() = %d after Lookup, want 1: Lookup must not count as use", n)
	}
}
