package store_test

import (
	"fmt"
	"time"

	"github.com/astraguard/astraguard/internal/store"
)

func Example() {
	type series struct{ n int }
	t, err := store.New[series](store.Config{Capacity: 2, TTL: time.Hour})
	if err != nil {
		panic(err)
	}
	now := time.Unix(0, 0)
	for _, id := range []string{"a", "b", "a", "c"} {
		r := t.Acquire(id, now) // the series is ours until Release
		r.Value().n++
		r.Release()
	}
	fmt.Println(t.Len(), t.Evicted(store.ReasonCapacity))
	// Output: 2 1
}
