package breaker

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Clock tells the breaker the time. It is the breaker's only source of time,
// so tests drive every timed transition by advancing a fake. Now must be safe
// for concurrent use.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Observer is told about every transition, including operator overrides that
// keep the state (CLOSED to forced CLOSED). It runs without the breaker's
// lock, in transition order, and may call the breaker. It must not panic and
// should be quick: it runs on the goroutine of a caller's Allow or Done.
type Observer func(Transition)

// Classifier maps a non-nil error passed to Done to an Outcome (Done counts
// a nil error as a Success without asking). It runs on every failed call, so
// it must be fast and safe for concurrent use.
type Classifier func(err error) Outcome

// DefaultClassifier is the classifier used without WithClassifier: nil is a
// Success, context.Canceled is Ignored (a caller hanging up says nothing
// about the dependency), and every other error is a Failure.
func DefaultClassifier(err error) Outcome {
	switch {
	case err == nil:
		return Success
	case errors.Is(err, context.Canceled):
		return Ignored
	}
	return Failure
}

// Option configures a Breaker's collaborators in New or, for every breaker
// it creates, in NewRegistry.
type Option func(*options)

type options struct {
	clock     Clock
	observers []Observer
	classify  Classifier
	random    func() float64
}

// WithClock sets the clock. Default: the system clock (time.Now).
func WithClock(c Clock) Option {
	return func(o *options) { o.clock = c }
}

// WithObserver adds an observer of transitions; it may be given several
// times. Given to NewRegistry, it observes every breaker the registry
// creates, including ones created later.
func WithObserver(obs Observer) Option {
	return func(o *options) { o.observers = append(o.observers, obs) }
}

// WithClassifier replaces DefaultClassifier.
func WithClassifier(c Classifier) Option {
	return func(o *options) { o.classify = c }
}

// WithRandom sets the source of Backoff jitter: r returns a value in [0, 1)
// and must be safe for concurrent use. It is called outside the breaker's
// lock, after a trip, to prepare the next trip's jitter; tests pass a
// constant. Default: math/rand/v2.Float64.
func WithRandom(r func() float64) Option {
	return func(o *options) { o.random = r }
}

// evaluate applies opts over the defaults once.
func evaluate(opts []Option) options {
	o := options{clock: systemClock{}, classify: DefaultClassifier, random: rand.Float64}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
