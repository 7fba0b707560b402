// Package stats holds the streaming statistics AstraGuard's detectors share:
// EWMA weights from half-lives, the deviation floor that keeps quantised or
// flat series from dividing by zero, and Numenta's anomaly likelihood (a
// short average of a feature against its own long-run distribution, reported
// on a log tail-probability scale), the learned sampling cadence, and the
// record rules on durations: Flatline (runs of identical values) and
// Excursion (the dwell rule on stays beyond a band; the model's only, with
// its state machine's dwells). The reference model and the heuristic fallback
// both use the package, so the two paths mean the same thing by a score and a
// rule has one implementation.
//
// Everything is O(1) state and allocation-free; values are plain structs the
// caller embeds in its per-series state. Nothing here is safe for concurrent
// use on one value. This package has no API stability promise.
package stats
