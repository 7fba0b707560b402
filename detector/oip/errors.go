package oip

import "errors"

var (
	// ErrBadResponse reports a ModelInferResponse that does not match the
	// tensor layout: a missing output, a wrong datatype or element count.
	ErrBadResponse = errors.New("bad model response")

	// ErrNotReady reports a model server or model that is not ready, or
	// whose metadata does not match the tensor layout.
	ErrNotReady = errors.New("model not ready")
)
