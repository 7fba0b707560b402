package breaker_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

func TestRegistry(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	var seen []string
	obs := func(tr breaker.Transition) { mu.Lock(); seen = append(seen, tr.Name+":"+tr.To.String()); mu.Unlock() }
	reg, err := breaker.NewRegistry(breaker.Settings{FailureThreshold: 1}, breaker.WithClock(clock), breaker.WithObserver(obs))
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	b := reg.Breaker("zeta")
	if reg.Breaker("zeta") != b {
		t.Fatalf("Breaker(zeta) twice returned different breakers")
	}
	// A breaker of its own settings: the registry's, then reconfigured.
	if err := reg.Breaker("alpha").Reconfigure(breaker.Settings{FailureThreshold: 2}); err != nil {
		t.Fatalf("Reconfigure(alpha) = %v", err)
	}
	if _, ok := reg.Get("missing"); ok {
		t.Fatalf("Get(missing) found a breaker")
	}
	late := reg.Breaker("mid") // created after the observer was registered
	_ = late.Execute(func() error { return errBoom })
	alpha, _ := reg.Get("alpha")
	_ = alpha.Execute(func() error { return errBoom })
	if want := []string{"mid:OPEN"}; !slices.Equal(seen, want) {
		t.Fatalf("observed %v, want %v (alpha needs 2 failures)", seen, want)
	}
	var names []string
	for _, s := range reg.Snapshot() {
		names = append(names, s.Name)
	}
	if want := []string{"alpha", "mid", "zeta"}; !slices.Equal(names, want) {
		t.Fatalf("Snapshot names = %v, want %v", names, want)
	}
	if got := reg.List()[0].Settings().FailureThreshold; got != 2 {
		t.Fatalf("alpha FailureThreshold = %d, want 2", got)
	}
}

func TestRegistryConcurrentGetOrCreate(t *testing.T) {
	reg, err := breaker.NewRegistry(breaker.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]*breaker.Breaker, 8)
	for i := range got {
		wg.Go(func() { got[i] = reg.Breaker("model") })
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("goroutine %d got a different breaker", i)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	bad := map[string]breaker.Settings{
		"negative recovery":     {RecoveryTimeout: -time.Second},
		"too many probes":       {MaxProbes: 256},
		"huge threshold":        {FailureThreshold: 1 << 21},
		"ratio above one":       {CountWindow: breaker.CountWindow{Size: 10, FailureRatio: 1.5}},
		"min calls above size":  {CountWindow: breaker.CountWindow{Size: 10, MinCalls: 11}},
		"slow without a window": {SlowCall: breaker.SlowCall{Duration: time.Second}},
		"jitter of one":         {Backoff: breaker.Backoff{Jitter: 1}},
		"shrinking backoff":     {Backoff: breaker.Backoff{Multiplier: 0.5}},
		"no rule at all":        {FailureThreshold: -1},
	}
	for name, s := range bad {
		if _, err := breaker.New("x", s); !errors.Is(err, breaker.ErrInvalidSettings) {
			t.Errorf("%s: New(%+v) = %v, want ErrInvalidSettings", name, s, err)
		}
	}
	if _, err := breaker.NewRegistry(bad["too many probes"]); !errors.Is(err, breaker.ErrInvalidSettings) {
		t.Errorf("NewRegistry(bad) = %v, want ErrInvalidSettings", err)
	}
}

func TestPresets(t *testing.T) {
	tests := []struct {
		name       string
		fail, succ int
		recovery   time.Duration
	}{
		{breaker.PresetStrict, 2, 1, 10 * time.Second},
		{breaker.PresetBalanced, 5, 2, time.Minute},
		{breaker.PresetLenient, 10, 3, time.Minute},
	}
	for _, tt := range tests {
		s, err := breaker.Preset(tt.name)
		if err != nil || s.FailureThreshold != tt.fail || s.SuccessThreshold != tt.succ || s.RecoveryTimeout != tt.recovery {
			t.Errorf("Preset(%q) = %+v, %v; want %d/%v/%d", tt.name, s, err, tt.fail, tt.recovery, tt.succ)
		}
	}
	if _, err := breaker.Preset("yolo"); !errors.Is(err, breaker.ErrUnknownPreset) {
		t.Errorf("Preset(yolo) = %v, want ErrUnknownPreset", err)
	}
	zero, _ := breaker.New("z", breaker.Settings{})
	balanced, _ := breaker.Preset(breaker.PresetBalanced)
	bal, _ := breaker.New("b", balanced)
	if zero.Settings() != bal.Settings() {
		t.Errorf("zero Settings = %+v, want balanced %+v", zero.Settings(), bal.Settings())
	}
}
