package server

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/astraguard/astraguard/breaker"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

func stateToProto(s breaker.State) astraguardv1.BreakerState {
	switch s {
	case breaker.StateClosed:
		return astraguardv1.BreakerState_BREAKER_STATE_CLOSED
	case breaker.StateOpen:
		return astraguardv1.BreakerState_BREAKER_STATE_OPEN
	case breaker.StateHalfOpen:
		return astraguardv1.BreakerState_BREAKER_STATE_HALF_OPEN
	}
	return astraguardv1.BreakerState_BREAKER_STATE_UNSPECIFIED
}

func forceToProto(f breaker.Force) astraguardv1.Override {
	switch f {
	case breaker.ForcedOpen:
		return astraguardv1.Override_OVERRIDE_FORCED_OPEN
	case breaker.ForcedClosed:
		return astraguardv1.Override_OVERRIDE_FORCED_CLOSED
	}
	return astraguardv1.Override_OVERRIDE_UNSPECIFIED
}

// timeToProto maps the zero time ("never") to an unset field.
func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func durationToProto(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

func settingsToProto(s breaker.Settings) *astraguardv1.BreakerSettings {
	p := &astraguardv1.BreakerSettings{
		FailureThreshold:   uint32(max(s.FailureThreshold, 0)),
		RecoveryTimeout:    durationToProto(s.RecoveryTimeout),
		SuccessThreshold:   uint32(s.SuccessThreshold),
		MaxProbes:          uint32(s.MaxProbes),
		ProbeTimeout:       durationToProto(s.ProbeTimeout),
		SlowCallDuration:   durationToProto(s.SlowCall.Duration),
		MaxRecoveryTimeout: durationToProto(s.Backoff.Max),
	}
	if s.SlowCall.Duration > 0 {
		p.SlowCallRatioThreshold = s.SlowCall.Ratio
	}
	p.Backoff = &astraguardv1.BackoffSettings{Multiplier: s.Backoff.Multiplier, Max: durationToProto(s.Backoff.Max), Jitter: s.Backoff.Jitter}
	if cw := s.CountWindow; cw.Size > 0 {
		p.CountWindow = &astraguardv1.CountWindowSettings{Size: uint32(cw.Size), MinCalls: uint32(cw.MinCalls), FailureRatio: cw.FailureRatio}
	}
	if tw := s.TimeWindow; tw.Length > 0 {
		p.TimeWindow = &astraguardv1.TimeWindowSettings{Length: durationToProto(tw.Length), Buckets: uint32(tw.Buckets),
			MinCalls: uint32(tw.MinCalls), FailureRatio: tw.FailureRatio}
	}
	switch {
	case s.CountWindow.Size > 0:
		p.WindowCalls = uint32(s.CountWindow.Size)
		p.MinCalls = uint32(s.CountWindow.MinCalls)
		p.FailureRatioThreshold = s.CountWindow.FailureRatio
	case s.TimeWindow.Length > 0:
		p.WindowDuration = durationToProto(s.TimeWindow.Length)
		p.MinCalls = uint32(s.TimeWindow.MinCalls)
		p.FailureRatioThreshold = s.TimeWindow.FailureRatio
	}
	return p
}

func breakerToProto(s breaker.Snapshot) *astraguardv1.Breaker {
	w := s.Window
	return &astraguardv1.Breaker{
		Name:                 s.Name,
		State:                stateToProto(s.State),
		Override:             forceToProto(s.Forced),
		OverrideReason:       s.ForceReason,
		OverrideExpireTime:   timeToProto(s.ForceExpiry),
		Settings:             settingsToProto(s.Settings),
		Window:               &astraguardv1.BreakerCounts{Successes: uint64(w.Calls - w.Failures), Failures: uint64(w.Failures), Slow: uint64(w.Slow)},
		Totals:               &astraguardv1.BreakerCounts{Successes: s.Totals.Successes, Failures: s.Totals.Failures, Ignored: s.Totals.Ignored, Rejected: s.Totals.Rejected},
		ConsecutiveFailures:  uint32(s.ConsecutiveFailures),
		ConsecutiveSuccesses: uint32(s.ConsecutiveSuccesses),
		Trips:                s.Totals.Trips,
		Recoveries:           s.Totals.Recoveries,
		OpenDuration:         durationpb.New(s.OpenDuration),
		LastTransitionTime:   timeToProto(s.LastTransition),
		NextProbeTime:        timeToProto(s.NextProbe),
	}
}

func transitionToProto(t breaker.Transition) *astraguardv1.Transition {
	return &astraguardv1.Transition{
		Name:   t.Name,
		From:   stateToProto(t.From),
		To:     stateToProto(t.To),
		Time:   timestamppb.New(t.At),
		Reason: t.Reason,
	}
}
