package tlsconf

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Option configures Server or Client.
type Option func(*options)

type options struct {
	logger *slog.Logger
	reg    prometheus.Registerer
	now    func() time.Time
}

// WithLogger sets the logger that reports failed certificate reloads at
// WARN, once per distinct failure; the default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRegisterer registers astraguard_tls_reload_errors_total{pair}, the
// failed reloads of the pair ("server" or "client"), each distinct failure
// once as it is logged; the default nil registers nothing. Server and
// Client may share one registerer.
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.reg = r } }

func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func evaluate(opts []Option) options {
	o := options{logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// reloadErrors returns the reload error counter of pair, registered once
// per registerer however many configurations share it.
func (o options) reloadErrors(pair string) (prometheus.Counter, error) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "astraguard_tls_reload_errors_total",
		Help: "Failed reloads of a changed TLS certificate or key, each distinct failure once; the previous pair stays in use.",
	}, []string{"pair"})
	if o.reg != nil {
		if err := o.reg.Register(vec); err != nil {
			are := prometheus.AlreadyRegisteredError{}
			if !errors.As(err, &are) {
				return nil, err
			}
			if vec, _ = are.ExistingCollector.(*prometheus.CounterVec); vec == nil {
				return nil, err
			}
		}
	}
	return vec.WithLabelValues(pair), nil
}
