package oip

import (
	"errors"
	"fmt"
	"time"
)

// DefaultModelName is the model name used when Config.ModelName is empty.
const DefaultModelName = "astraguard-anomaly"

// Config tunes a Client. The zero value works.
type Config struct {
	// ModelName is the model asked for. Default DefaultModelName.
	ModelName string

	// ModelVersion is the model version asked for. Default "" (the
	// server's choice).
	ModelVersion string

	// Retry is the retry policy of ModelInfer.
	Retry RetryPolicy
}

// RetryPolicy says how a failed ModelInfer is retried. Every attempt and
// every wait happens inside the deadline of the Predict call: no retry is
// made when the time left is shorter than the wait before it. Only
// Unavailable and Aborted (and ResourceExhausted if enabled) are retried;
// DeadlineExceeded, Canceled, InvalidArgument and all others never are.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included.
	// Default 3; 1 disables retries.
	MaxAttempts int

	// BaseBackoff is the wait cap before the first retry; it doubles for
	// each later retry up to MaxBackoff. The actual wait is drawn
	// uniformly from [0, cap) ("full jitter"). Default 5ms.
	BaseBackoff time.Duration

	// MaxBackoff caps the wait cap. Default 100ms.
	MaxBackoff time.Duration

	// RetryResourceExhausted also retries ResourceExhausted. Default false:
	// grpc-go reports an oversized message as ResourceExhausted on the
	// client side, which no retry fixes, and a server shedding load asks
	// for less traffic, not more.
	RetryResourceExhausted bool
}

func (c Config) withDefaults() (Config, error) {
	if c.ModelName == "" {
		c.ModelName = DefaultModelName
	}
	r := &c.Retry
	if r.MaxAttempts == 0 {
		r.MaxAttempts = 3
	}
	if r.BaseBackoff == 0 {
		r.BaseBackoff = 5 * time.Millisecond
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = 100 * time.Millisecond
	}
	switch {
	case r.MaxAttempts < 1:
		return c, fmt.Errorf("%w: Retry.MaxAttempts %d < 1", errInvalidConfig, r.MaxAttempts)
	case r.BaseBackoff < 0 || r.MaxBackoff < 0:
		return c, fmt.Errorf("%w: negative backoff", errInvalidConfig)
	case r.MaxBackoff < r.BaseBackoff:
		return c, fmt.Errorf("%w: Retry.MaxBackoff %v < BaseBackoff %v", errInvalidConfig, r.MaxBackoff, r.BaseBackoff)
	}
	return c, nil
}

var errInvalidConfig = errors.New("invalid oip config")
