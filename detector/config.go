package detector

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/store"
	"github.com/astraguard/astraguard/internal/zerofield"
)

// DefaultMaxSeriesIDBytes is the default of Config.MaxSeriesIDBytes.
const DefaultMaxSeriesIDBytes = 256

// DefaultMaxClockSkew is the default of Config.MaxClockSkew.
const DefaultMaxClockSkew = 10 * time.Second

// DefaultConfig returns the value each zero field of Config takes (SeriesTTL
// stays 0: off); cmd/astraguard's flags take their defaults from it.
func DefaultConfig() Config {
	return Config{ModelTimeout: 100 * time.Millisecond, MaxSeries: store.DefaultCapacity,
		MaxSeriesIDBytes: DefaultMaxSeriesIDBytes, MaxClockSkew: DefaultMaxClockSkew}
}

// Config holds the detector's tunables. The zero value is usable: every
// zero field takes the default its doc gives.
type Config struct {
	// ModelTimeout bounds one model call. Default 100ms. A model that misses
	// it counts as a breaker failure and the batch falls back to the heuristic.
	ModelTimeout time.Duration
	// MaxSeries is the capacity of the series table, so memory stays
	// bounded whatever ids clients send. Default 100,000
	// (store.DefaultCapacity). A new series
	// arriving at a full table evicts the least recently used one (see
	// package store); an evicted series that returns warms up again.
	MaxSeries int
	// SeriesTTL evicts a series that sent nothing for longer than this.
	// Zero disables it; cmd/astraguard defaults it to 24h
	// (store.DefaultIdleTTL). Eviction
	// happens on the series' next sample or in Sweep.
	SeriesTTL time.Duration
	// MaxSeriesIDBytes bounds a series id's length. Default
	// DefaultMaxSeriesIDBytes.
	MaxSeriesIDBytes int
	// MaxClockSkew is how far past the receive time a timestamp may lie.
	// Default 10s. A later sample gets ErrInvalidTimestamp and leaves the
	// series' watermark alone: an accepted future timestamp would make
	// every later sample of that series, from anyone, out of order until
	// the clock caught up, so this bounds how long one client can lock a
	// series out. NTP keeps honest clocks well within it. A watermark
	// further ahead than this, from another clock, is pulled back (see
	// the package doc), so it bounds every watermark's lock-out alike.
	MaxClockSkew time.Duration
}

// Upper bounds of Config, so a typo is refused before anything is sized by
// it or a deadline computed from it overflows.
const (
	// MaxMaxSeries bounds MaxSeries: the series table indexes its slots
	// with 32-bit integers (package store). Its memory grows with the
	// series that arrive, not with this number.
	MaxMaxSeries = math.MaxInt32
	// MaxMaxSeriesIDBytes bounds MaxSeriesIDBytes.
	MaxMaxSeriesIDBytes = 64 << 10
	// MaxMaxClockSkew bounds MaxClockSkew: a sample further ahead than a
	// day is never a clock that NTP keeps, and the latest accepted time
	// must stay representable in nanoseconds.
	MaxMaxClockSkew = 24 * time.Hour
	// MaxDuration bounds ModelTimeout and SeriesTTL (10 years), so the
	// deadlines computed from them cannot overflow.
	MaxDuration = 10 * 365 * 24 * time.Hour
)

// FieldError is one invalid field of Config or Policy; Field is its Go
// name.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// Validate reports every out-of-range field of c at once, each a
// *FieldError, joined; nil when New would accept c. Zero fields take
// their defaults.
func (c Config) Validate() error {
	var errs []error
	check := func(field string, v, hi int64, show string) {
		if v < 0 || v > hi {
			errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf("%s outside [0, %s]", show, bound(field, hi))})
		}
	}
	check("ModelTimeout", int64(c.ModelTimeout), int64(MaxDuration), c.ModelTimeout.String())
	check("MaxSeries", int64(c.MaxSeries), MaxMaxSeries, fmt.Sprint(c.MaxSeries))
	check("SeriesTTL", int64(c.SeriesTTL), int64(MaxDuration), c.SeriesTTL.String())
	check("MaxSeriesIDBytes", int64(c.MaxSeriesIDBytes), MaxMaxSeriesIDBytes, fmt.Sprint(c.MaxSeriesIDBytes))
	check("MaxClockSkew", int64(c.MaxClockSkew), int64(MaxMaxClockSkew), c.MaxClockSkew.String())
	return errors.Join(errs...)
}

// ValidateExplicit is Validate for a Config whose every field was written
// out on purpose, as cmd/astraguard's flags write it (each starting from
// DefaultConfig's value): a 0 that would take the field's default is
// refused too ("must not be 0"), since whoever wrote it meant off or made
// a mistake (package zerofield). SeriesTTL's 0 (off, its default) is
// accepted.
func (c Config) ValidateExplicit() error {
	var errs []error
	if err := c.Validate(); err != nil {
		errs = err.(interface{ Unwrap() []error }).Unwrap()
	}
	for _, z := range zerofield.Check(c, DefaultConfig(), nil) {
		errs = append(errs, &FieldError{Field: z.Field, Err: z})
	}
	return errors.Join(errs...)
}

// bound prints an upper bound as the field's kind.
func bound(field string, hi int64) string {
	switch field {
	case "ModelTimeout", "SeriesTTL", "MaxClockSkew":
		return time.Duration(hi).String()
	}
	return fmt.Sprint(hi)
}

func (c Config) withDefaults() (Config, error) {
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("detector config: %w", err)
	}
	d := DefaultConfig()
	c.ModelTimeout = cmp.Or(c.ModelTimeout, d.ModelTimeout)
	c.MaxSeries = cmp.Or(c.MaxSeries, d.MaxSeries)
	c.MaxSeriesIDBytes = cmp.Or(c.MaxSeriesIDBytes, d.MaxSeriesIDBytes)
	c.MaxClockSkew = cmp.Or(c.MaxClockSkew, d.MaxClockSkew)
	return c, nil
}

// Option configures a Detector.
type Option func(*options)

type options struct {
	clock        Clock
	logger       *slog.Logger
	registerer   prometheus.Registerer
	rejectReason func(error) Reason
	heuristic    *heuristic.Heuristic
	adopter      Adopter
}

// Adopter hands over the state another replica saved for a series (a
// record of StatePart's layout), once: Adopt passes the record, if it has
// one, to install, and reports whether install took it (a record install
// refuses is the Adopter's to count as an error, never as adopted).
// Detector asks it when it sees a series for the first time, under that
// series' lock, so it must be quick.
type Adopter interface {
	Adopt(seriesID string, install func(record []byte) error) bool
}

// WithAdopter makes a series new to the detector start from the state a
// replica that drained handed over (checkpoint.Index), instead of cold.
// The default nil starts every new series cold.
func WithAdopter(a Adopter) Option { return func(o *options) { o.adopter = a } }

// WithClock sets the clock used for receive times and timestamp checks.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRegisterer registers the detector's metrics; the default nil registers none.
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.registerer = r } }

// WithRejectReason maps a Gate rejection to a fallback reason, so the
// verdict can tell "forced open" from "open" without detector importing the
// breaker. The default answers ReasonBreakerOpen.
func WithRejectReason(f func(error) Reason) Option {
	return func(o *options) { o.rejectReason = f }
}

// WithHeuristic sets the fallback heuristic; the default is
// heuristic.New(heuristic.Config{}), the seed's limit preset.
func WithHeuristic(h *heuristic.Heuristic) Option { return func(o *options) { o.heuristic = h } }

func evaluateOptions(opts []Option) options {
	o := options{
		clock:        realClock{},
		logger:       slog.New(slog.DiscardHandler),
		rejectReason: func(error) Reason { return ReasonBreakerOpen },
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
