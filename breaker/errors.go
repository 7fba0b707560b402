package breaker

import (
	"errors"
	"fmt"
)

// Sentinel errors. Allow returns errors that match them with errors.Is; every
// rejection matches ErrOpen, so callers that only need "rejected" test that.
var (
	// ErrOpen means the breaker is OPEN and rejected the call.
	ErrOpen = errors.New("circuit breaker is open")
	// ErrForcedOpen means an operator forced the breaker open. It also
	// matches ErrOpen.
	ErrForcedOpen error = &rejectError{msg: "circuit breaker is forced open"}
	// ErrTooManyProbes means the breaker is HALF_OPEN and all probe permits
	// (Settings.MaxProbes) are taken. It also matches ErrOpen.
	ErrTooManyProbes error = &rejectError{msg: "circuit breaker is half-open with all probes in flight"}
	// ErrInvalidSettings is wrapped by New and NewRegistry when Settings
	// fail validation.
	ErrInvalidSettings = errors.New("invalid breaker settings")
	// ErrUnknownPreset is wrapped by Preset for a name it does not know.
	ErrUnknownPreset = errors.New("unknown breaker preset")
)

// rejectError is a rejection that matches ErrOpen and, for the sentinels'
// per-breaker copies, the sentinel it stands for. Each Breaker embeds its
// three values, so rejecting a call allocates nothing, and formats the
// message with the breaker's name only when it is printed.
type rejectError struct {
	msg  string // for the sentinels
	name string // the breaker's, for per-breaker copies
	kind error  // the sentinel a per-breaker copy stands for
}

func (e *rejectError) Error() string {
	if e.kind == nil {
		return e.msg
	}
	return fmt.Sprintf("breaker %q: %v", e.name, e.kind)
}

// Is reports whether target is ErrOpen or the sentinel e stands for.
func (e *rejectError) Is(target error) bool {
	return target == ErrOpen || (e.kind != nil && target == e.kind)
}

// Indexes of Breaker.rejects.
const (
	rejectOpen = iota
	rejectForced
	rejectProbes
)
