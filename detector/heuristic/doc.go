// Package heuristic is AstraGuard's in-process fallback detector, used when
// the model is unavailable. It is deliberately simple, deterministic and
// cheap (no allocations per sample, a 248-byte State; BenchmarkScore costs
// about 1.8 times what the shift score alone did, 120-230 ns per sample on
// a shared 2-core machine, and the level score added about a third: 83 to
// 109 ns, medians of five alternating runs):
//
//   - limit checks in the spacecraft-operations sense: per channel (the last
//     segment of the series id after '/' or '.') or per full series id, a
//     low and/or high limit; a violation scores 1 and is flagged as such;
//   - a shift score: how far a fast EWMA mean (half-life 4 samples) sits
//     from a slow one, in units of the slow EWMA absolute deviation
//     (floored at half the data's quantum, so flat or quantised series do
//     not explode);
//   - a step score, for changes of behaviour that stay within the normal
//     range: the error of a one-step predictor (the last value) in units of
//     its own slow average, smoothed with an EWMA (half-life 32 samples), as
//     telemanom smooths its predictor's errors (Hundman et al., KDD 2018);
//   - a level score, for level changes on slowly varying signals (a daily
//     wave at 1-5 minute cadence, which the slow mean cannot follow): the
//     one-step error of a locally linear background (Brown's double
//     exponential smoothing, half-life 6 samples, its input cleaned with
//     Huber's psi in a scale that widens under lasting errors, Gelper,
//     Fried and Croux's robust Holt-Winters, J. Forecasting 2010), in units
//     of the mean absolute first difference, clipped at 3 (one outlier is
//     not a level change) and averaged with the fast mean's half-life: an
//     EWMA chart of the errors, two-sided (level.go);
//   - each score calibrated against its own long-run mean and variance and
//     reported on Numenta's anomaly-likelihood log scale in [0, 1] (Ahmad
//     et al., Neurocomputing 2017), the largest one counting, with the tail
//     probability multiplied by the samples per five minutes of the
//     series' learned cadence (stats.NextCadence, as the model does), so
//     false alarms per day do not grow with the sampling rate; silent
//     during a learning period and quiet for a while after a flag;
//   - a flatline rule, the model's (stats.Flatline): a run of identical
//     values 1.1 times longer than any before, and at least 33 samples, on a
//     series that varies scores 1 (Result.Stuck): a frozen sensor sits at
//     the slow mean, where no score sees it;
//   - states for few-valued series: while a series has taken at most 8
//     distinct values (mode, status and square-wave channels), a value it
//     never took flags and moves between known values never do, since a
//     routine transition is as large as any shift.
//
// The statistics are internal/stats', shared with the model. Spacecraft
// development channels (telemanom's protocol, make eval): F1 0.62 with the
// defaults, against 0.40 for the shift score alone; NAB development subset,
// standard profile, cross-validated: about 76 with the threshold swept and
// 76 for the Anomaly flags (70 and 70 before the level score; Windowed
// Gaussian, tuned on all files: 47.1). See docs/model.md for the method's
// limits.
//
// It does not learn seasonality or sequences (that is the model's job) and
// does not validate input: callers pass finite values in time order. A NaN
// or ±Inf value is still ignored rather than allowed to poison the state,
// and a value beyond ±1e30 (the model's limit too) is flagged (score 1,
// Result.Implausible) from the first sample, during learning too, and
// kept out of the statistics for the same reason: a series of nothing
// else has every sample flagged. Within ±1e30 the statistics are relative
// (deviations in units of the series' own, floored at a millionth of its
// level), so a series scores the same at every scale whose level is well
// above 1e-3 (below, the deviation floor of 1e-9 takes over).
//
// Concurrency: a *Heuristic is immutable after New and safe for concurrent
// use; each State belongs to one series and is not safe for concurrent use.
//
// This package has no API stability promise.
package heuristic
