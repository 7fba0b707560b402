package oip

import (
	"log/slog"
	"math/rand/v2"
	"time"
)

// Counter is the part of prometheus.Counter the Client uses.
type Counter interface{ Inc() }

// Option configures a Client.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	loadErrors Counter
	restarts   Counter
	jitter     func(max time.Duration) time.Duration
}

func evaluateOptions(opts []Option) options {
	o := options{
		logger: slog.New(slog.DiscardHandler),
		jitter: fullJitter,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithLoadErrors sets the counter incremented by every failed CheckReady,
// normally astraguard_anomaly_model_load_errors_total made by the caller.
// Default: none.
func WithLoadErrors(c Counter) Option {
	return func(o *options) { o.loadErrors = c }
}

// WithRestartCounter sets a counter incremented whenever the model server's
// instance_id changes, i.e. it restarted and lost its per-series state.
// Default: none.
func WithRestartCounter(c Counter) Option {
	return func(o *options) { o.restarts = c }
}

// WithJitter replaces the backoff jitter source: jitter(max) must return a
// wait in [0, max]. Default: uniform in [0, max). Tests make it
// deterministic.
func WithJitter(jitter func(max time.Duration) time.Duration) Option {
	return func(o *options) {
		if jitter != nil {
			o.jitter = jitter
		}
	}
}

func fullJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max)))
}
