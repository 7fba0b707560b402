package store

import (
	"fmt"
	"testing"
	"time"
)

func TestRangeShardVisitsEveryEntryOnce(t *testing.T) {
	tb, err := New[int](Config{Capacity: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 500 {
		tb.Restore(fmt.Sprint("s", i), i, t0.Add(time.Duration(i)*time.Second))
	}
	seen := map[string]int{}
	for sh := range tb.Shards() {
		tb.RangeShard(sh, func(id string, last time.Time, v *int) bool {
			if want := t0.Add(time.Duration(*v) * time.Second); !last.Equal(want) || id != fmt.Sprint("s", *v) {
				t.Errorf("RangeShard gave %q %d last seen %v, want %v", id, *v, last, want)
			}
			seen[id]++
			return true
		})
	}
	if len(seen) != 500 {
		t.Errorf("RangeShard over every shard visited %d ids, want 500", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s visited %d times", id, n)
		}
	}
	stopped := tb.RangeShard(0, func(string, time.Time, *int) bool { return false })
	if stopped && tb.Len() > 0 {
		// shard 0 may be empty; then fn is never called and the walk completes
		n := 0
		tb.RangeShard(0, func(string, time.Time, *int) bool { n++; return true })
		if n > 0 {
			t.Error("RangeShard returned true although fn stopped it")
		}
	}
}
