package breaker

import (
	"fmt"
	"time"
)

// State is the breaker's state. Its values are the ones the
// astraguard_circuit_state gauge exports.
type State int32

// States.
const (
	StateClosed   State = 0 // calls pass; outcomes are counted against the trip rules
	StateOpen     State = 1 // calls are rejected until the recovery wait ends
	StateHalfOpen State = 2 // up to MaxProbes probe calls test the dependency
)

// String returns the state as the seed and the admin API spell it, e.g. "HALF_OPEN".
func (s State) String() string {
	switch s {
	case StateClosed:
		return "CLOSED"
	case StateOpen:
		return "OPEN"
	case StateHalfOpen:
		return "HALF_OPEN"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// Force is an operator override.
type Force int32

// Overrides.
const (
	ForceNone    Force = 0 // no override
	ForcedOpen   Force = 1 // every call is rejected with ErrForcedOpen
	ForcedClosed Force = 2 // every call passes; outcomes are counted but never trip
)

// String returns the override's name, e.g. "FORCED_OPEN".
func (f Force) String() string {
	switch f {
	case ForceNone:
		return "NONE"
	case ForcedOpen:
		return "FORCED_OPEN"
	case ForcedClosed:
		return "FORCED_CLOSED"
	}
	return fmt.Sprintf("Force(%d)", int32(f))
}

// Outcome is how a call counts, as decided by the Classifier.
type Outcome int32

// Outcomes.
const (
	Success Outcome = iota // the dependency worked
	Failure                // the dependency failed; counts against it
	Ignored                // says nothing about the dependency (e.g. the caller cancelled)
)

// String returns the outcome's name, e.g. "IGNORED".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "SUCCESS"
	case Failure:
		return "FAILURE"
	case Ignored:
		return "IGNORED"
	}
	return fmt.Sprintf("Outcome(%d)", int32(o))
}

// Transition describes one change of state or override, as given to
// Observers.
type Transition struct {
	Name     string    // the breaker's name
	From, To State     // equal when only the override changed, or on Reset
	Forced   Force     // the override in effect after the transition
	Reason   string    // why, e.g. "consecutive failures" or the operator's reason
	At       time.Time // the Clock's time of the transition
}

// Reasons given in Transition.Reason by the breaker itself.
const (
	ReasonConsecutive  = "consecutive failures"
	ReasonCountRatio   = "failure ratio over last calls"
	ReasonTimeRatio    = "failure ratio over time window"
	ReasonSlowRatio    = "slow call ratio"
	ReasonRecoveryWait = "recovery timeout elapsed"
	ReasonProbeFailed  = "probe failed"
	ReasonProbeSlow    = "probe slow"
	ReasonProbeTimeout = "probe timed out"
	ReasonProbesOK     = "probes succeeded"
	ReasonReset        = "reset"
	ReasonForceExpired = "force expired"
	ReasonForceCleared = "force cleared"
)
