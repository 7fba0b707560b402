package server

import "github.com/astraguard/astraguard/detector"

// VerdictObserver sees every batch the DetectorService scores, streamed or
// unary: its groups and their verdicts, one per sample in order (as
// detector.Detector.Score returns them). cmd/astraguard passes the
// anomaly view (internal/anomalyview), so the server never knows the page.
//
// ObserveVerdicts runs in the scoring goroutine before the response is
// sent, so it must be quick and must not block; it must not keep groups,
// verdicts or their strings past its return (they are reused, and a
// series id may alias the request's buffer): copy what it keeps.
type VerdictObserver interface {
	ObserveVerdicts(groups []detector.Group, verdicts []detector.Verdict)
}

// WithVerdictObserver has the DetectorService show every scored batch to
// o; the default nil shows none.
func WithVerdictObserver(o VerdictObserver) Option { return func(opts *options) { opts.observer = o } }
