package main

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/server"
)

// TestRestoredOverrideLastsAtMostMaxForceTTL: an override restored from a
// snapshot ends within server.MaxForceTTL (24h) of the restart, as one an
// operator sets does. An expiry further ahead (written by a clock that ran
// ahead, or before this clock stepped back), or none, pinned the model
// breaker forced open for as long as it said: 1000 hours here.
func TestRestoredOverrideLastsAtMostMaxForceTTL(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for name, expiry := range map[string]time.Time{"far ahead": now.Add(1000 * time.Hour), "none": {}} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			saved, err := json.Marshal(breaker.SavedState{Name: "model", State: breaker.StateOpen, Forced: breaker.ForcedOpen,
				ForceReason: "maintenance", ForceExpiry: expiry})
			if err != nil {
				t.Fatal(err)
			}
			w, err := checkpoint.New(dir, snapshotFile, "sig")
			if err != nil {
				t.Fatal(err)
			}
			w.Add("breakers", recordsPart{{"model", saved}})
			if err := w.Save(t.Context()); err != nil {
				t.Fatal(err)
			}

			clock := &fixedClock{now}
			reg, err := breaker.NewRegistry(breaker.Settings{}, breaker.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			b := reg.Breaker("model")
			r, err := checkpoint.New(dir, snapshotFile, "sig")
			if err != nil {
				t.Fatal(err)
			}
			r.Add("breakers", breakerPart{reg: reg, logger: slog.New(slog.DiscardHandler), now: clock.Now})
			r.Restore(t.Context())
			s := b.Snapshot()
			if s.Forced != breaker.ForcedOpen || s.ForceReason != "maintenance" {
				t.Fatalf("restored %v %q, want the forced-open override", s.Forced, s.ForceReason)
			}
			if s.ForceExpiry.IsZero() || s.ForceExpiry.After(now.Add(server.MaxForceTTL)) {
				t.Errorf("restored override expires %v, want within %v of %v", s.ForceExpiry, server.MaxForceTTL, now)
			}
		})
	}
}

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }
