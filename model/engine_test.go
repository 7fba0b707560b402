package model

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func mustEngine(t testing.TB, maxSeries int) *Engine {
	t.Helper()
	e, err := NewEngine(Config{WarmUp: 10}, maxSeries)
	if err != nil {
		t.Fatalf("NewEngine error = %v", err)
	}
	return e
}

func batch(start, n int) ([]int64, []float64, []Result) {
	ts, vs := make([]int64, n), make([]float64, n)
	for i := range n {
		ts[i], vs[i] = int64(start+i)*fiveMin, float64((start+i)%7)
	}
	return ts, vs, make([]Result, n)
}

func TestEngineMatchesDetector(t *testing.T) {
	e := mustEngine(t, 4)
	d := mustDetector(t, Config{WarmUp: 10})
	for b := range 10 {
		ts, vs, out := batch(b*50, 50)
		if err := e.Score("sat1/voltage", ts, vs, out); err != nil {
			t.Fatalf("Score error = %v", err)
		}
		for i := range vs {
			if want := d.Update(ts[i], vs[i]); out[i] != want {
				t.Fatalf("batch %d row %d: Score = %+v, want %+v", b, i, out[i], want)
			}
		}
	}
}

func TestEngineBatchMismatch(t *testing.T) {
	e := mustEngine(t, 4)
	ts, vs, _ := batch(0, 3)
	if err := e.Score("x", ts, vs, make([]Result, 2)); !errors.Is(err, ErrBatch) {
		t.Fatalf("Score with short out error = %v, want ErrBatch", err)
	}
	if _, err := NewEngine(Config{}, 0); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewEngine(maxSeries 0) error = %v, want ErrInvalidConfig", err)
	}
}

func TestEngineEvictionAndForget(t *testing.T) {
	const max = 32
	e := mustEngine(t, max)
	ts, vs, out := batch(0, 20)
	for i := range 500 {
		if err := e.Score(fmt.Sprintf("sat%d/temperature", i), ts, vs, out); err != nil {
			t.Fatal(err)
		}
		if n := e.Len(); n > max {
			t.Fatalf("Len() = %d after %d series, want <= %d", n, i+1, max)
		}
	}
	if n := e.Len(); n < max/2 {
		t.Errorf("Len() = %d, want the engine mostly full (about %d)", n, max)
	}

	// A warm series that is forgotten comes back cold.
	id := "sat0/gyro"
	e.Score(id, ts, vs, out)
	if !out[len(out)-1].Warm {
		t.Fatalf("last row of a 20-sample batch with WarmUp 10: Warm = false, want true")
	}
	if !e.Forget(id) {
		t.Fatalf("Forget(%q) = false, want true", id)
	}
	if e.Forget(id) {
		t.Fatalf("second Forget(%q) = true, want false", id)
	}
	e.Score(id, ts[:1], vs[:1], out[:1])
	if out[0].Warm {
		t.Errorf("first row after Forget: Warm = true, want false (state is new)")
	}
}

func TestEngineRecentlyUsedSurvives(t *testing.T) {
	e := mustEngine(t, 16) // one slot per shard
	ts, vs, out := batch(0, 20)
	hot := "hot"
	for i := range 200 {
		e.Score(hot, ts, vs, out)
		e.Score(fmt.Sprintf("cold%d", i), ts, vs, out)
	}
	// hot was evicted at most when a cold series landed in its shard; a
	// series used every other call must have been re-created rarely, so
	// its latest batch is warm unless it was evicted just now.
	e.Score(hot, ts, vs, out)
	if !out[len(out)-1].Warm {
		t.Errorf("hot series cold after its own batch of 20 with WarmUp 10")
	}
}

func TestEngineConcurrent(t *testing.T) {
	e := mustEngine(t, 64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				ts, vs, out := batch(i*8, 8)
				id := fmt.Sprintf("s%d", (g*7+i)%100)
				if err := e.Score(id, ts, vs, out); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					e.Forget(id)
					e.Len()
				}
			}
		}()
	}
	wg.Wait()
	if n := e.Len(); n > 64 {
		t.Errorf("Len() = %d, want <= 64", n)
	}
}
