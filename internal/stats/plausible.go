package stats

import "math"

// MaxMagnitude is the plausibility bound shared by every scorer (the model
// and the heuristic): a finite value beyond ±1e30 is implausible for any
// telemetry, flagged and never learned. It is far beyond any telemetry and
// small enough that every intermediate stays finite: the model's float32
// daily-profile bins (max 3.4e38), differences of two values (at most
// 2e30), bands of mean ± a few deviations, z-scores clamped to MaxFeature
// before a variance squares them.
const MaxMagnitude = 1e30

// Plausible reports whether v is within ±MaxMagnitude.
func Plausible(v float64) bool { return math.Abs(v) <= MaxMagnitude }
