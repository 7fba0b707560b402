// Package breaker is a circuit breaker for calls to one dependency (the
// anomaly model), in the Hystrix and "Release It!" tradition.
//
// A Breaker is CLOSED (calls pass), OPEN (calls are rejected at once) or
// HALF_OPEN (a few probe calls test whether the dependency has recovered).
// Operators can force it open or closed for a while, clear the force, or
// reset it. It trips on any combination of consecutive failures, a failure
// ratio over the last N calls, a failure ratio over a time window and a
// slow-call ratio; see Settings. Transitions are reported to Observers, and a
// Registry holds the breakers of a process by name.
//
// Settings.Validate owns the settings' rules and bounds (MaxWindowSize,
// MaxBuckets, MaxDuration, ...): New, NewRegistry and Reconfigure refuse
// what it refuses before allocating anything, and it reports every bad field
// at once as a *FieldError, so a caller that maps Settings from a file or a
// flag names its own key without repeating the rules.
//
// Calls go through the two-step API, Allow then Done, which allocates nothing
// and lets callers keep the breaker behind a small interface of their own:
//
//	ticket, err := b.Allow()
//	if err != nil {
//		return fallback() // errors.Is(err, breaker.ErrOpen)
//	}
//	err = call()
//	b.Done(ticket, err)
//
// Execute wraps the same steps around a function and also records a panic as
// a failure before letting it continue.
//
// What it does not do: it starts no goroutines and runs no timers. Time is
// read from an injected Clock, and every time-based change (OPEN to
// HALF_OPEN, an expired force, a probe that overran ProbeTimeout) happens
// lazily on the next call into the breaker. It does not retry, does not log,
// does not export metrics (package breakerprom does) and knows nothing about
// gRPC (package breakergrpc classifies gRPC errors). It imports only the
// standard library. Unlike the rest of this module, its API is meant to stay
// stable.
//
// Concurrency: every method of Breaker and Registry is safe for concurrent
// use. In the CLOSED state with only the consecutive-failures rule (the
// default), Allow and Done take no lock and read no clock: Allow is one
// atomic load, a successful Done one load and one atomic add. Observers are
// called without any lock held, in transition order, on the goroutine of a
// call that caused or found the transition; they may call back into the
// breaker.
package breaker
