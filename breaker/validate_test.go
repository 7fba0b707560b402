package breaker_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
)

// TestValidateBounds: sizes and durations are bounded before anything is
// allocated for them (a count window of 1e11 calls was a fatal out of
// memory in New), and Validate reports every bad field at once, each a
// *FieldError matching ErrInvalidSettings.
func TestValidateBounds(t *testing.T) {
	s := breaker.Settings{
		SuccessThreshold: breaker.MaxThreshold + 1,
		RecoveryTimeout:  math.MaxInt64,
		CountWindow:      breaker.CountWindow{Size: 100_000_000_000, MinCalls: 1, FailureRatio: 1},
		TimeWindow:       breaker.TimeWindow{Length: time.Hour, Buckets: 1_000_000_000},
		SlowCall:         breaker.SlowCall{Duration: 2 * time.Hour},
		Backoff:          breaker.Backoff{Multiplier: math.NaN()},
	}
	err := s.Validate()
	want := []string{"SuccessThreshold", "RecoveryTimeout", "SlowCall.Duration", "CountWindow.Size", "TimeWindow.Buckets", "Backoff.Multiplier"}
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *breaker.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("Validate error %v is no *FieldError", e)
		}
		got = append(got, fe.Field)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Validate fields = %v, want %v", got, want)
	}
	if !errors.Is(err, breaker.ErrInvalidSettings) {
		t.Errorf("Validate = %v, want it to match ErrInvalidSettings", err)
	}
	if _, err := breaker.New("x", breaker.Settings{CountWindow: breaker.CountWindow{Size: 100_000_000_000}}); !errors.Is(err, breaker.ErrInvalidSettings) {
		t.Errorf("New(count window 1e11) = %v, want ErrInvalidSettings", err)
	}
	b, _ := breaker.New("x", breaker.Settings{})
	if err := b.Reconfigure(breaker.Settings{TimeWindow: breaker.TimeWindow{Length: time.Hour, Buckets: math.MaxInt}}); !errors.Is(err, breaker.ErrInvalidSettings) {
		t.Errorf("Reconfigure(buckets MaxInt) = %v, want ErrInvalidSettings", err)
	}
	atMax := breaker.Settings{CountWindow: breaker.CountWindow{Size: breaker.MaxWindowSize},
		TimeWindow: breaker.TimeWindow{Length: breaker.MaxDuration, Buckets: breaker.MaxBuckets}, RecoveryTimeout: breaker.MaxDuration,
		Backoff: breaker.Backoff{Multiplier: 2}}
	if err := atMax.Validate(); err != nil {
		t.Errorf("Validate(every bound at its maximum) = %v, want nil", err)
	}
}

// TestValidateRetryDurations: the durations that pace the retries of the
// dependency (the recovery wait, the probe timeout, the backoff's cap) are
// refused below MinDuration, so a unit typo such as 1ns cannot make an
// OPEN breaker let a probe through on nearly every call; zero takes the
// default, and each bound itself is accepted.
func TestValidateRetryDurations(t *testing.T) {
	fields := map[string]func(*breaker.Settings, time.Duration){
		"RecoveryTimeout": func(s *breaker.Settings, d time.Duration) { s.RecoveryTimeout = d },
		"ProbeTimeout":    func(s *breaker.Settings, d time.Duration) { s.ProbeTimeout = d },
		"Backoff.Max":     func(s *breaker.Settings, d time.Duration) { s.Backoff = breaker.Backoff{Multiplier: 2, Max: d} },
	}
	for field, set := range fields {
		for _, tc := range []struct {
			d    time.Duration
			want string // "" accepted
		}{
			{time.Nanosecond, "below the minimum 1ms"},
			{0, ""},
			{-time.Nanosecond, "outside [0, "},
			{breaker.MinDuration - time.Nanosecond, "below the minimum 1ms"},
			{breaker.MinDuration, ""},
			{breaker.MaxDuration, ""},
			{breaker.MaxDuration + time.Nanosecond, "outside [0, "},
		} {
			var s breaker.Settings
			set(&s, tc.d)
			err := s.Validate()
			var fe *breaker.FieldError
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s %v: Validate = %v, want nil", field, tc.d, err)
			case tc.want != "" && (!errors.As(err, &fe) || fe.Field != field || !strings.Contains(fe.Err.Error(), tc.want)):
				t.Errorf("%s %v: Validate = %v, want a FieldError of %s containing %q", field, tc.d, err, field, tc.want)
			}
		}
	}
}

// TestForCallTimeout: a probe timeout left to its default is raised to
// the guarded call's timeout when RecoveryTimeout (or its own default,
// 60s) is shorter; one set shorter than the call timeout is a FieldError
// of ProbeTimeout naming the call timeout; others pass unchanged.
func TestForCallTimeout(t *testing.T) {
	for _, tc := range []struct {
		in        breaker.Settings
		d         time.Duration
		wantProbe time.Duration
		wantErr   string
	}{
		{breaker.Settings{RecoveryTimeout: 10 * time.Millisecond}, 100 * time.Millisecond, 100 * time.Millisecond, ""},
		{breaker.Settings{RecoveryTimeout: time.Second}, 100 * time.Millisecond, 0, ""},
		{breaker.Settings{}, 2 * time.Minute, 2 * time.Minute, ""},
		{breaker.Settings{}, time.Minute, 0, ""},
		{breaker.Settings{ProbeTimeout: time.Second}, time.Second, time.Second, ""},
		{breaker.Settings{ProbeTimeout: 50 * time.Millisecond}, 100 * time.Millisecond, 0, "ProbeTimeout: 50ms shorter than the call 100ms"},
	} {
		got, err := tc.in.ForCallTimeout("the call", tc.d)
		var fe *breaker.FieldError
		switch {
		case tc.wantErr == "" && (err != nil || got.ProbeTimeout != tc.wantProbe):
			t.Errorf("%+v.ForCallTimeout(%v) = ProbeTimeout %v, %v; want %v", tc.in, tc.d, got.ProbeTimeout, err, tc.wantProbe)
		case tc.wantErr != "" && (!errors.As(err, &fe) || fe.Field != "ProbeTimeout" || !strings.HasPrefix(err.Error(), tc.wantErr) || !errors.Is(err, breaker.ErrInvalidSettings)):
			t.Errorf("%+v.ForCallTimeout(%v) = %v, want a FieldError %q", tc.in, tc.d, err, tc.wantErr)
		}
	}
}
