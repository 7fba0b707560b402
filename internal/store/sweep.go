package store

import (
	"context"
	"time"
)

// SweepEvery calls sweep with the current time at an interval suited to
// ttl (a sixteenth of it, between a second and a minute), so idle entries
// are freed within about ttl plus a minute, until ctx is done. It blocks:
// the owner runs it in a goroutine it stops through ctx. With ttl zero it
// returns at once.
func SweepEvery(ctx context.Context, ttl time.Duration, sweep func(now time.Time) int) {
	if ttl <= 0 {
		return
	}
	tick := time.NewTicker(min(max(ttl/16, time.Second), time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			sweep(now)
		}
	}
}
