package checkpoint

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestValidateInterval(t *testing.T) {
	for _, tc := range []struct {
		d  time.Duration
		ok bool
	}{
		{time.Nanosecond, false},
		{0, false},
		{-time.Nanosecond, false},
		{MinInterval - time.Nanosecond, false},
		{MinInterval, true},
		{DefaultInterval, true},
		{1<<63 - 1, true}, // a ticker of any length; nothing multiplies it
	} {
		if err := ValidateInterval(tc.d); (err == nil) != tc.ok {
			t.Errorf("ValidateInterval(%v) = %v, want ok %v", tc.d, err, tc.ok)
		}
	}
	if DefaultInterval < MinInterval {
		t.Errorf("DefaultInterval %v below MinInterval %v", DefaultInterval, MinInterval)
	}
}

// TestRunIntervalFloor: Keeper.Run and Index.Run given 1ns (which
// Validate refuses, but a caller may skip it) save and scan no more often
// than MinInterval, never in a busy loop. Fake time: synctest.
func TestRunIntervalFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		k := newKeeper(t, dir, "sig1", map[string]*mapPart{"a": {m: map[string]string{"k": "v"}}})
		x := NewIndex(dir, "self.snap", "sig1", "a", 0, 10)
		run := func(d time.Duration) {
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{}, 2)
			go func() { k.Run(ctx, time.Nanosecond); done <- struct{}{} }()
			go func() { x.Run(ctx, time.Nanosecond); done <- struct{}{} }()
			time.Sleep(d)
			synctest.Wait()
			cancel()
			<-done
			<-done
		}
		run(100 * time.Nanosecond)
		if n, s := k.Stats().Saves, x.Stats().Scans; n != 0 || s != 1 {
			t.Fatalf("100ns at interval 1ns: %d saves, %d scans; want 0 and the first scan only", n, s)
		}
		run(MinInterval)
		if n, s := k.Stats().Saves, x.Stats().Scans; n != 1 || s != 3 {
			t.Errorf("then MinInterval at interval 1ns: %d saves, %d scans; want 1 and 3 (a first scan each run, one tick)", n, s)
		}
	})
}
