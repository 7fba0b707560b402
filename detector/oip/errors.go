package oip

import (
	"errors"
	"fmt"

	"github.com/astraguard/astraguard/detector"
)

var (
	// ErrBadResponse reports a ModelInferResponse that does not match the
	// tensor layout: a missing output, a wrong datatype or element count.
	// It wraps detector.ErrInvalidOutput, so the detector answers such a
	// batch with FALLBACK_REASON_MODEL_INVALID_OUTPUT and counts a model
	// failure.
	ErrBadResponse = fmt.Errorf("bad model response: %w", detector.ErrInvalidOutput)

	// ErrNotReady reports a model server or model that is not ready, or
	// whose metadata does not match the tensor layout.
	ErrNotReady = errors.New("model not ready")
)
