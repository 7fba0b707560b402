package oip

import "log/slog"

// Counter is the part of prometheus.Counter the Client uses.
type Counter interface{ Inc() }

// Option configures a Client.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	loadErrors Counter
	restarts   Counter
}

func evaluateOptions(opts []Option) options {
	o := options{
		logger: slog.New(slog.DiscardHandler),
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
