package breaker

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Settings are a breaker's tunables. The zero value is the balanced preset
// (5 consecutive failures, 60s recovery wait, 2 probe successes) and every
// zero field takes the default its doc states. Rules combine: the breaker
// trips when any enabled rule says so.
type Settings struct {
	// FailureThreshold is the number of consecutive failures that opens a
	// CLOSED breaker. Default 5; a negative value disables the rule.
	FailureThreshold int
	// RecoveryTimeout is how long the breaker stays OPEN before it lets
	// probes through. Default 60s.
	RecoveryTimeout time.Duration
	// SuccessThreshold is the number of probe successes that closes a
	// HALF_OPEN breaker. Default 2.
	SuccessThreshold int
	// MaxProbes is the number of probes allowed in flight at once while
	// HALF_OPEN. Default 1, at most 255.
	MaxProbes int
	// ProbeTimeout is how long a probe permit may stay out before the next
	// call into the breaker reclaims it and counts it as a failure, so a
	// probe that never calls Done cannot wedge the breaker. Default
	// RecoveryTimeout. It cannot be disabled.
	ProbeTimeout time.Duration
	// CountWindow trips on the failure ratio of the last N calls. Disabled
	// when its Size is 0.
	CountWindow CountWindow
	// TimeWindow trips on the failure ratio of the calls in a sliding time
	// window. Disabled when its Length is 0.
	TimeWindow TimeWindow
	// SlowCall trips on the ratio of slow calls in the enabled windows.
	// Disabled when its Duration is 0.
	SlowCall SlowCall
	// Backoff grows the recovery wait on repeated trips. The zero value
	// waits RecoveryTimeout every time.
	Backoff Backoff
}

// CountWindow is a failure-ratio rule over the most recent calls. Ignored
// outcomes are not calls.
type CountWindow struct {
	// Size is the number of most recent calls considered. 0 disables the
	// rule.
	Size int
	// MinCalls is the number of calls the window needs before the rule can
	// trip. Default Size.
	MinCalls int
	// FailureRatio in (0, 1] trips the breaker when failures/calls reaches
	// it, compared exactly as the shortest decimal that reads back as the
	// value (0.56 trips at 14 of 25). Default 0.5.
	FailureRatio float64
}

// TimeWindow is a failure-ratio rule over a sliding time window, kept as
// Buckets equal slices so memory is fixed.
type TimeWindow struct {
	// Length is the window's span. 0 disables the rule.
	Length time.Duration
	// Buckets is the number of slices the window is kept in; the window
	// slides one slice at a time. Default 10.
	Buckets int
	// MinCalls is the number of calls in the window before the rule can
	// trip. Default 10.
	MinCalls int
	// FailureRatio in (0, 1] trips the breaker when failures/calls reaches
	// it. Default 0.5.
	FailureRatio float64
}

// SlowCall counts calls that take at least Duration as slow, as
// resilience4j does, and trips when slow/calls reaches Ratio in any enabled
// window (each with its own MinCalls). A slow call is also a success or a
// failure. While HALF_OPEN, a slow successful probe counts as a failed probe.
// The rule needs CountWindow or TimeWindow enabled.
type SlowCall struct {
	// Duration is the call duration from Allow to Done at or above which a
	// call is slow. 0 disables the rule. Measured in microseconds modulo
	// about 71 minutes, which is far beyond any useful threshold.
	Duration time.Duration
	// Ratio in (0, 1] trips the breaker when slow/calls reaches it.
	// Default 1 (every call in the window slow).
	Ratio float64
}

// Backoff makes the recovery wait grow on repeated trips: the n-th trip since
// the last clean close (HALF_OPEN to CLOSED by probe successes, or Reset)
// waits RecoveryTimeout × Multiplier^n, scaled by a random factor in
// [1-Jitter, 1+Jitter] and capped at Max.
type Backoff struct {
	// Multiplier, at least 1, grows the wait per trip. Default 1 (no growth).
	Multiplier float64
	// Max caps the wait. Default 10 × RecoveryTimeout when Multiplier > 1,
	// else unbounded.
	Max time.Duration
	// Jitter in [0, 1) spreads the wait by ±Jitter of itself. Default 0.
	Jitter float64
}

// Preset names accepted by Preset.
const (
	PresetStrict   = "strict"   // 2 failures, 10s, 1 success
	PresetBalanced = "balanced" // 5 failures, 60s, 2 successes; the default
	PresetLenient  = "lenient"  // 10 failures, 60s, 3 successes
)

// Preset returns the seed's named settings (FailureThreshold /
// RecoveryTimeout / SuccessThreshold): strict 2/10s/1, balanced 5/60s/2,
// lenient 10/60s/3. Other fields are zero, so they take their defaults. An
// unknown name returns an error wrapping ErrUnknownPreset.
func Preset(name string) (Settings, error) {
	switch name {
	case PresetStrict:
		return Settings{FailureThreshold: 2, RecoveryTimeout: 10 * time.Second, SuccessThreshold: 1}, nil
	case PresetBalanced:
		return Settings{FailureThreshold: 5, RecoveryTimeout: 60 * time.Second, SuccessThreshold: 2}, nil
	case PresetLenient:
		return Settings{FailureThreshold: 10, RecoveryTimeout: 60 * time.Second, SuccessThreshold: 3}, nil
	}
	return Settings{}, fmt.Errorf("preset %q: %w", name, ErrUnknownPreset)
}

// maxThreshold bounds FailureThreshold so the consecutive count fits in the
// state word (see word.go).
const maxThreshold = 1 << 20

// normalize fills defaults and validates, returning the settings the breaker
// runs with. Errors wrap ErrInvalidSettings.
func (s Settings) normalize() (Settings, error) {
	if err := s.fillDefaults(); err != nil {
		return Settings{}, fmt.Errorf("%w: %w", ErrInvalidSettings, err)
	}
	if err := s.validateRules(); err != nil {
		return Settings{}, fmt.Errorf("%w: %w", ErrInvalidSettings, err)
	}
	return s, nil
}

func (s *Settings) fillDefaults() error {
	switch {
	case s.FailureThreshold > maxThreshold:
		return fmt.Errorf("FailureThreshold %d above %d", s.FailureThreshold, maxThreshold)
	case s.RecoveryTimeout < 0, s.ProbeTimeout < 0:
		return errors.New("negative RecoveryTimeout or ProbeTimeout")
	case s.SuccessThreshold < 0:
		return fmt.Errorf("negative SuccessThreshold %d", s.SuccessThreshold)
	case s.MaxProbes < 0 || s.MaxProbes > 255:
		return fmt.Errorf("MaxProbes %d outside [0, 255]", s.MaxProbes)
	}
	s.FailureThreshold = orDefault(s.FailureThreshold, 5)
	s.SuccessThreshold = orDefault(s.SuccessThreshold, 2)
	s.MaxProbes = orDefault(s.MaxProbes, 1)
	s.RecoveryTimeout = orDefault(s.RecoveryTimeout, 60*time.Second)
	s.ProbeTimeout = orDefault(s.ProbeTimeout, s.RecoveryTimeout)
	if s.CountWindow.Size > 0 {
		s.CountWindow.MinCalls = orDefault(s.CountWindow.MinCalls, s.CountWindow.Size)
		s.CountWindow.FailureRatio = orDefault(s.CountWindow.FailureRatio, 0.5)
	}
	if s.TimeWindow.Length > 0 {
		s.TimeWindow.Buckets = orDefault(s.TimeWindow.Buckets, 10)
		s.TimeWindow.MinCalls = orDefault(s.TimeWindow.MinCalls, 10)
		s.TimeWindow.FailureRatio = orDefault(s.TimeWindow.FailureRatio, 0.5)
	}
	if s.SlowCall.Duration > 0 {
		s.SlowCall.Ratio = orDefault(s.SlowCall.Ratio, 1)
	}
	s.Backoff.Multiplier = orDefault(s.Backoff.Multiplier, 1)
	if s.Backoff.Multiplier > 1 && s.Backoff.Max == 0 {
		s.Backoff.Max = 10 * s.RecoveryTimeout
	}
	return nil
}

func (s *Settings) validateRules() error {
	cw, tw := s.CountWindow, s.TimeWindow
	switch {
	case cw.Size < 0 || cw.MinCalls < 0 || cw.MinCalls > cw.Size:
		return fmt.Errorf("CountWindow Size %d MinCalls %d", cw.Size, cw.MinCalls)
	case !ratioOK(cw.FailureRatio) && cw.Size > 0, !ratioOK(tw.FailureRatio) && tw.Length > 0:
		return errors.New("window FailureRatio outside (0, 1]")
	case tw.Length < 0 || tw.Buckets < 0 || tw.MinCalls < 0:
		return errors.New("negative TimeWindow field")
	case tw.Length > 0 && tw.Length < time.Duration(tw.Buckets):
		return fmt.Errorf("TimeWindow Length %v shorter than %d ns buckets", tw.Length, tw.Buckets)
	case s.SlowCall.Duration < 0, s.SlowCall.Duration > 0 && !ratioOK(s.SlowCall.Ratio):
		return errors.New("SlowCall Duration negative or Ratio outside (0, 1]")
	case s.SlowCall.Duration > 0 && cw.Size == 0 && tw.Length == 0:
		return errors.New("SlowCall needs CountWindow or TimeWindow")
	case s.Backoff.Multiplier < 1 || s.Backoff.Max < 0:
		return errors.New("Backoff Multiplier below 1 or negative Max")
	case s.Backoff.Jitter < 0 || s.Backoff.Jitter >= 1 || math.IsNaN(s.Backoff.Jitter):
		return fmt.Errorf("Backoff Jitter %v outside [0, 1)", s.Backoff.Jitter)
	case s.FailureThreshold < 0 && cw.Size == 0 && tw.Length == 0:
		return errors.New("every trip rule is disabled")
	}
	return nil
}

// fastPath reports whether the consecutive-failures rule is the only one,
// which lets CLOSED calls skip the lock and the clock.
func (s *Settings) fastPath() bool {
	return s.CountWindow.Size == 0 && s.TimeWindow.Length == 0
}

func ratioOK(r float64) bool { return r > 0 && r <= 1 }

func orDefault[T int | float64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
