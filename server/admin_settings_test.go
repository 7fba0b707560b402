package server

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/astraguard/astraguard/breaker"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestSettingsToProtoFull: GetBreaker shows every effective setting,
// including both windows at once and the backoff.
func TestSettingsToProtoFull(t *testing.T) {
	s := breaker.Settings{FailureThreshold: 5, RecoveryTimeout: time.Minute, SuccessThreshold: 2, MaxProbes: 3, ProbeTimeout: 10 * time.Second,
		CountWindow: breaker.CountWindow{Size: 25, MinCalls: 10, FailureRatio: 0.56},
		TimeWindow:  breaker.TimeWindow{Length: time.Minute, Buckets: 6, MinCalls: 20, FailureRatio: 0.4},
		SlowCall:    breaker.SlowCall{Duration: time.Second, Ratio: 0.8},
		Backoff:     breaker.Backoff{Multiplier: 2, Max: 10 * time.Minute, Jitter: 0.1}}
	want := &astraguardv1.BreakerSettings{
		FailureThreshold: 5, RecoveryTimeout: durationpb.New(time.Minute), SuccessThreshold: 2, MaxProbes: 3,
		ProbeTimeout: durationpb.New(10 * time.Second), FailureRatioThreshold: 0.56, SlowCallDuration: durationpb.New(time.Second),
		SlowCallRatioThreshold: 0.8, WindowCalls: 25, MinCalls: 10, MaxRecoveryTimeout: durationpb.New(10 * time.Minute),
		CountWindow: &astraguardv1.CountWindowSettings{Size: 25, MinCalls: 10, FailureRatio: 0.56},
		TimeWindow:  &astraguardv1.TimeWindowSettings{Length: durationpb.New(time.Minute), Buckets: 6, MinCalls: 20, FailureRatio: 0.4},
		Backoff:     &astraguardv1.BackoffSettings{Multiplier: 2, Max: durationpb.New(10 * time.Minute), Jitter: 0.1},
	}
	if diff := cmp.Diff(want, settingsToProto(s), protocmp.Transform()); diff != "" {
		t.Errorf("settingsToProto diff (-want +got):\n%s", diff)
	}
}
