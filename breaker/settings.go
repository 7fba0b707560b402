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
// trips when any enabled rule says so. The yaml tags are the keys of a
// breaker's section in AstraGuard's configuration file, which decodes
// straight into Settings; a key tagged nonzero may not be written 0 there,
// where 0 is Go's spelling of the default, not off (the file spells the
// default by leaving the key out).
type Settings struct {
	// FailureThreshold is the number of consecutive failures that opens a
	// CLOSED breaker. Default 5; a negative value disables the rule.
	FailureThreshold int `yaml:"failure_threshold,nonzero"`
	// RecoveryTimeout is how long the breaker stays OPEN before it lets
	// probes through. Default 60s; at least MinDuration.
	RecoveryTimeout time.Duration `yaml:"recovery_timeout,nonzero"`
	// SuccessThreshold is the number of probe successes that closes a
	// HALF_OPEN breaker. Default 2.
	SuccessThreshold int `yaml:"success_threshold,nonzero"`
	// MaxProbes is the number of probes allowed in flight at once while
	// HALF_OPEN. Default 1, at most 255.
	MaxProbes int `yaml:"max_probes,nonzero"`
	// ProbeTimeout is how long a probe permit may stay out before the next
	// call into the breaker reclaims it and counts it as a failure, so a
	// probe that never calls Done cannot wedge the breaker. Default
	// RecoveryTimeout; at least MinDuration, and at least the guarded
	// call's own timeout (see ForCallTimeout). It cannot be disabled.
	ProbeTimeout time.Duration `yaml:"probe_timeout,nonzero"`
	// CountWindow trips on the failure ratio of the last N calls. Disabled
	// when its Size is 0.
	CountWindow CountWindow `yaml:"count_window"`
	// TimeWindow trips on the failure ratio of the calls in a sliding time
	// window. Disabled when its Length is 0.
	TimeWindow TimeWindow `yaml:"time_window"`
	// SlowCall trips on the ratio of slow calls in the enabled windows.
	// Disabled when its Duration is 0.
	SlowCall SlowCall `yaml:"slow_call"`
	// Backoff grows the recovery wait on repeated trips. The zero value
	// waits RecoveryTimeout every time.
	Backoff Backoff `yaml:"backoff"`
}

// CountWindow is a failure-ratio rule over the most recent calls. Ignored
// outcomes are not calls.
type CountWindow struct {
	// Size is the number of most recent calls considered. 0 disables the
	// rule.
	Size int `yaml:"size"`
	// MinCalls is the number of calls the window needs before the rule can
	// trip. Default Size.
	MinCalls int `yaml:"min_calls,nonzero"`
	// FailureRatio in (0, 1] trips the breaker when failures/calls reaches
	// it, compared exactly as the shortest decimal that reads back as the
	// value (0.56 trips at 14 of 25). Default 0.5.
	FailureRatio float64 `yaml:"failure_ratio,nonzero"`
}

// TimeWindow is a failure-ratio rule over a sliding time window, kept as
// Buckets equal slices so memory is fixed.
type TimeWindow struct {
	// Length is the window's span. 0 disables the rule.
	Length time.Duration `yaml:"length"`
	// Buckets is the number of slices the window is kept in; the window
	// slides one slice at a time. Default 10.
	Buckets int `yaml:"buckets,nonzero"`
	// MinCalls is the number of calls in the window before the rule can
	// trip. Default 10.
	MinCalls int `yaml:"min_calls,nonzero"`
	// FailureRatio in (0, 1] trips the breaker when failures/calls reaches
	// it. Default 0.5.
	FailureRatio float64 `yaml:"failure_ratio,nonzero"`
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
	Duration time.Duration `yaml:"duration"`
	// Ratio in (0, 1] trips the breaker when slow/calls reaches it.
	// Default 1 (every call in the window slow).
	Ratio float64 `yaml:"ratio,nonzero"`
}

// Backoff makes the recovery wait grow on repeated trips: the n-th trip since
// the last clean close (HALF_OPEN to CLOSED by probe successes, or Reset)
// waits RecoveryTimeout × Multiplier^n, scaled by a random factor in
// [1-Jitter, 1+Jitter] and capped at Max.
type Backoff struct {
	// Multiplier, at least 1, grows the wait per trip. Default 1 (no growth).
	Multiplier float64 `yaml:"multiplier,nonzero"`
	// Max caps the wait. Default 10 × RecoveryTimeout when Multiplier > 1,
	// else unbounded; at least MinDuration.
	Max time.Duration `yaml:"max,nonzero"`
	// Jitter in [0, 1) spreads the wait by ±Jitter of itself. Default 0.
	Jitter float64 `yaml:"jitter"`
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

// Upper bounds of the settings. Each is far beyond a useful value; they
// exist so a typo in a file, a flag or an admin RPC is refused before
// anything is allocated or an overflow changes what the breaker does.
const (
	// MaxThreshold bounds FailureThreshold (the consecutive count must fit
	// in the state word, see word.go) and SuccessThreshold.
	MaxThreshold = 1 << 20
	// MaxProbes bounds Settings.MaxProbes (a probe slot fits in 8 bits of
	// a ticket).
	MaxProbes = 255
	// MaxWindowSize bounds CountWindow.Size: the window keeps one byte per
	// call, so this is 1 MiB per breaker.
	MaxWindowSize = 1 << 20
	// MaxBuckets bounds TimeWindow.Buckets: every call into a breaker with
	// a time window visits each bucket, so this also bounds a call's cost.
	MaxBuckets = 1000
	// MaxDuration bounds RecoveryTimeout, ProbeTimeout, Backoff.Max and
	// TimeWindow.Length (7 days), so deadlines computed from them cannot
	// overflow.
	MaxDuration = 7 * 24 * time.Hour
	// MaxSlowCallDuration bounds SlowCall.Duration: call times are kept in
	// microseconds modulo about 71 minutes.
	MaxSlowCallDuration = time.Hour
	// MinDuration is the shortest RecoveryTimeout, ProbeTimeout and
	// Backoff.Max (zero still takes the default): they pace the retries of
	// the dependency, a probe after each recovery wait, and a wait of
	// nanoseconds (a unit typo) would let a probe through on nearly every
	// call, so an OPEN breaker would shed no load. A millisecond is below
	// any network round trip yet lets in-process tests run fast; the
	// presets wait 10s and 60s.
	MinDuration = time.Millisecond
)

// FieldError is one invalid field of Settings. Field is the Go field path,
// e.g. "CountWindow.Size", so a caller that maps Settings from its own
// format (a file key, a flag, a proto field) can name its own spelling.
// It matches ErrInvalidSettings with errors.Is.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Is makes every FieldError match ErrInvalidSettings.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidSettings }

func (e *FieldError) Unwrap() error { return e.Err }

// Validate reports every problem of s at once (as New, NewRegistry and
// Reconfigure would refuse it), each a *FieldError, joined in field order;
// nil when s is valid. Zero fields take their defaults first.
func (s Settings) Validate() error {
	_, err := s.normalize()
	return err
}

// ForCallTimeout fits s to calls that run at most d (a deadline the caller
// enforces, such as a model timeout) before they call Done. A probe permit
// is reclaimed and counted as a failure after ProbeTimeout even if its
// call is still running, so a ProbeTimeout shorter than d fails every
// probe slower than it and a dependency that slow could never close the
// breaker. A ProbeTimeout left to its default (RecoveryTimeout) is raised
// to d; one set shorter than d is a *FieldError of ProbeTimeout whose
// message names the call timeout as name.
func (s Settings) ForCallTimeout(name string, d time.Duration) (Settings, error) {
	if s.ProbeTimeout == 0 {
		if orDefault(s.RecoveryTimeout, 60*time.Second) < d {
			s.ProbeTimeout = d
		}
		return s, nil
	}
	if s.ProbeTimeout < d {
		return s, &FieldError{Field: "ProbeTimeout", Err: fmt.Errorf("%v shorter than %s %v: a probe still running would be reclaimed and counted as failed", s.ProbeTimeout, name, d)}
	}
	return s, nil
}

// normalize fills defaults and validates, returning the settings the breaker
// runs with. Errors are Validate's.
func (s Settings) normalize() (Settings, error) {
	var errs []error
	bad := func(cond bool, field, format string, args ...any) {
		if cond {
			errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf(format, args...)})
		}
	}
	// Bounds first, on the values as given: a default is always valid.
	bad(s.FailureThreshold > MaxThreshold, "FailureThreshold", "%d above %d", s.FailureThreshold, MaxThreshold)
	bad(s.SuccessThreshold < 0 || s.SuccessThreshold > MaxThreshold, "SuccessThreshold", "%d outside [0, %d]", s.SuccessThreshold, MaxThreshold)
	bad(s.MaxProbes < 0 || s.MaxProbes > MaxProbes, "MaxProbes", "%d outside [0, %d]", s.MaxProbes, MaxProbes)
	durations := []struct {
		field    string
		d        time.Duration
		min, max time.Duration
	}{
		{"RecoveryTimeout", s.RecoveryTimeout, MinDuration, MaxDuration},
		{"ProbeTimeout", s.ProbeTimeout, MinDuration, MaxDuration},
		{"TimeWindow.Length", s.TimeWindow.Length, 0, MaxDuration},
		{"SlowCall.Duration", s.SlowCall.Duration, 0, MaxSlowCallDuration},
		{"Backoff.Max", s.Backoff.Max, MinDuration, MaxDuration},
	}
	for _, d := range durations {
		bad(d.d < 0 || d.d > d.max, d.field, "%v outside [0, %v]", d.d, d.max)
		bad(d.d > 0 && d.d < d.min, d.field, "%v below the minimum %v", d.d, d.min)
	}
	cw, tw := s.CountWindow, s.TimeWindow
	bad(cw.Size < 0 || cw.Size > MaxWindowSize, "CountWindow.Size", "%d outside [0, %d]", cw.Size, MaxWindowSize)
	bad(cw.MinCalls < 0 || cw.MinCalls > max(cw.Size, 0), "CountWindow.MinCalls", "%d outside [0, CountWindow.Size %d]", cw.MinCalls, cw.Size)
	bad(tw.Buckets < 0 || tw.Buckets > MaxBuckets, "TimeWindow.Buckets", "%d outside [0, %d]", tw.Buckets, MaxBuckets)
	bad(tw.MinCalls < 0, "TimeWindow.MinCalls", "negative %d", tw.MinCalls)
	bad(!ratioOrZero(cw.FailureRatio), "CountWindow.FailureRatio", "%v outside (0, 1]", cw.FailureRatio)
	bad(!ratioOrZero(tw.FailureRatio), "TimeWindow.FailureRatio", "%v outside (0, 1]", tw.FailureRatio)
	bad(!ratioOrZero(s.SlowCall.Ratio), "SlowCall.Ratio", "%v outside (0, 1]", s.SlowCall.Ratio)
	bad(s.Backoff.Multiplier != 0 && !(s.Backoff.Multiplier >= 1 && !math.IsInf(s.Backoff.Multiplier, 0)),
		"Backoff.Multiplier", "%v: want a finite value of at least 1", s.Backoff.Multiplier)
	bad(!(s.Backoff.Jitter >= 0 && s.Backoff.Jitter < 1), "Backoff.Jitter", "%v outside [0, 1)", s.Backoff.Jitter)
	if len(errs) > 0 {
		return Settings{}, errors.Join(errs...)
	}
	s.fillDefaults()
	cw, tw = s.CountWindow, s.TimeWindow
	// Cross-field rules, on the values the breaker would run with.
	bad(tw.Length > 0 && tw.Length < time.Duration(tw.Buckets), "TimeWindow.Length", "%v shorter than one nanosecond per bucket (%d buckets)", tw.Length, tw.Buckets)
	bad(s.SlowCall.Duration > 0 && cw.Size == 0 && tw.Length == 0, "SlowCall.Duration", "needs CountWindow or TimeWindow")
	bad(s.FailureThreshold < 0 && cw.Size == 0 && tw.Length == 0, "FailureThreshold", "%d turns off the only trip rule: set CountWindow or TimeWindow", s.FailureThreshold)
	if len(errs) > 0 {
		return Settings{}, errors.Join(errs...)
	}
	return s, nil
}

func (s *Settings) fillDefaults() {
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
}

// fastPath reports whether the consecutive-failures rule is the only one,
// which lets CLOSED calls skip the lock and the clock.
func (s *Settings) fastPath() bool {
	return s.CountWindow.Size == 0 && s.TimeWindow.Length == 0
}

func ratioOK(r float64) bool { return r > 0 && r <= 1 }

// ratioOrZero accepts 0 (the default) or a ratio in (0, 1]; never NaN.
func ratioOrZero(r float64) bool { return r == 0 || ratioOK(r) }

func orDefault[T int | float64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
