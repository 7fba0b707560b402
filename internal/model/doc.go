// Package model is AstraGuard's reference online anomaly model: a per-series
// streaming detector that learns from the stream itself (no labels) and
// returns an anomaly score in [0, 1], its own yes/no decision and an
// explanation (the mechanism that fired, the expected value and a band).
//
// Method. Each sample feeds five cheap, complementary detectors:
//
//   - shift: distance of a fast EWMA mean from a slow one, in units of the
//     slow EWMA absolute deviation (level shifts and spikes);
//   - season: distance of a short EWMA of the value from a time-of-day
//     profile (24 hourly UTC bins, each an EWMA of mean and deviation), for
//     a daily pattern that breaks while values stay in range. It reports
//     only at cadences up to an hour, after two days of data, while the
//     profile holds a daily rhythm (Config.SeasonGate), and a bin only
//     after it has learned a few samples;
//   - novelty: values discretised into 8 levels over the range seen so far,
//     with bit sets recording which 1-, 2- and 3-step transitions were ever
//     seen (as CAD OSE does; the 3-step set folded to half size, each bit
//     shared by a transition and its mirror half a range away); unseen
//     transitions are novel;
//   - stuck: a run of identical values longer than any earlier run (a
//     frozen sensor, a dead exporter); fires once per record-breaking run;
//   - record: a value beyond the all-time range by a share of its width (a
//     new extreme that slow statistics would have absorbed), unless the
//     series sets new extremes on that side far more often than an
//     exchangeable series would (a trend: Foster and Stuart's records
//     test, Config.RecordTrend); the extremes it is judged against are
//     carried along the series' local least-squares slope, so a level
//     that drifts sets no record by keeping up with itself
//     (Config.RecordDrift).
//
// A series that has shown at most 16 distinct values is judged on its
// states instead (states.go: unseen state beyond the known ones, unseen
// transition, dwell out of character; MechanismState), and the five above
// stay silent for it, unless it has at least five values and moves almost
// only between neighbouring ones (a continuous signal read through a
// coarse quantiser, which is continuous for good). A sixth detector, context (predict.go;
// MechanismContext), is the smoothed one-step error of a per-series
// recursive-least-squares predictor of first differences, flagged when it
// beats the largest earlier one by ContextPrune (telemanom's pruning rule
// run online).
//
// Shift, season and novelty each go through Numenta's anomaly likelihood
// (internal/stats): the feature's short average against the long-run
// distribution of that average, so the score means the same on every
// series: a tail probability on Numenta's log scale. The strongest evidence
// wins; a flag is followed by a suppression, since repeated detections of
// one event are only false positives (ARTime and CAD OSE do the same).
//
// Cadence. Each series' sampling interval is learned (an EWMA of the gaps
// between timestamps, robust to single gaps). Memories that describe the
// world (normal level, long-run feature distribution, daily profile,
// warm-up, suppression) are durations in Config and converted with it;
// filters against sample noise stay in samples. Tail probabilities are
// multiplied by the number of samples per five minutes, so a series
// sampled every second does not raise 300 times the false positives per
// day of one sampled every five minutes. Series whose timestamps do not
// advance are treated as five-minute data.
//
// Contract. Samples come in time order; a NaN or ±Inf sample is ignored
// (zero Result, state untouched). A value beyond ±1e30, implausible for
// any telemetry and unsafe to learn from (the time-of-day profile's
// float32 bins and the differences of two such values would overflow), is
// flagged with score 1 and MechanismLimit from the first sample, warm or
// not, inside a suppression too, and not learned: it does not count
// toward warm-up, so a series made only of such values stays cold with
// every sample flagged. State is a fixed-size struct of 2640
// bytes per series (StateBytes); Update does not allocate and uses no
// randomness, so the same input always yields the same results. Expected,
// Lower and Upper are 0 and Mechanism is MechanismNone until the series is
// warm (but for MechanismLimit, above). UpdateJudged is Update under a per-call Judge (the series'
// policy: mechanisms off, threshold, sensitivity), which is not part of
// the state; Update is the zero Judge. How the defaults were chosen (leave-one-file-out cross-validation
// on the NAB development subset) and what was tried is in
// docs/model-tuning.md.
//
// Concurrency: a Detector is not safe for concurrent use; a Template is.
// The model keeps no table of series: the service keeps each series'
// Detector, by value, in its one per-series entry (package store) and
// updates it only while it owns that entry, so updates reach a series in
// time order.
//
// This package has no API stability promise.
package model
