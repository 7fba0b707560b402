package store_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/astraguard/astraguard/internal/store"
)

// TestSweepEveryFloor: the sweep runs at most once a second however short
// the ttl (--series-ttl 1ns forgets series at once but must not make the
// sweep a busy loop), at most once a minute however long, and not at all
// with ttl 0 or negative. Fake time: synctest.
func TestSweepEveryFloor(t *testing.T) {
	for _, tc := range []struct {
		ttl     time.Duration
		elapsed time.Duration
		want    int
	}{
		{time.Nanosecond, time.Second - time.Nanosecond, 0},
		{time.Nanosecond, time.Second, 1},
		{16 * time.Second, 2 * time.Second, 2},
		{1<<63 - 1, time.Minute, 1},
		{0, time.Hour, 0},
		{-time.Nanosecond, time.Hour, 0},
	} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			sweeps := 0
			done := make(chan struct{})
			go func() { store.SweepEvery(ctx, tc.ttl, func(time.Time) int { sweeps++; return 0 }); close(done) }()
			time.Sleep(tc.elapsed)
			synctest.Wait()
			cancel()
			<-done
			if sweeps != tc.want {
				t.Errorf("SweepEvery(ttl %v) for %v: %d sweeps, want %d", tc.ttl, tc.elapsed, sweeps, tc.want)
			}
		})
	}
}
