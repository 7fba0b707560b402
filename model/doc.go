// Package model is AstraGuard's reference online anomaly model: a per-series
// streaming detector that learns from the stream itself (no labels) and
// returns an anomaly score in [0, 1] plus its own yes/no decision.
//
// Method. Each sample feeds five cheap, complementary detectors:
//
//   - shift: distance of a fast EWMA mean (half-life 4 samples) from a slow
//     one (half-life 1000), in units of the slow EWMA absolute deviation
//     (level shifts and spikes);
//   - season: distance of a short EWMA of the value (half-life 8) from a
//     time-of-day profile (24 hourly UTC bins), which catches a daily
//     pattern that breaks while values stay in range. The profile sees the
//     short average rather than raw values so that one-sample spikes in
//     bursty count data do not read as a broken day (they are the shift
//     feature's business); a bin reports only after it has learned 6
//     samples, because the huge ratios of a barely-learned bin otherwise
//     inflate the likelihood's long-run variance and mask real breaks;
//   - novelty: a sequence-novelty learner in the spirit of CAD OSE: values
//     are discretised into 8 levels over the range seen so far and bit sets
//     record which 1-, 2- and 3-step transitions were ever seen; unseen
//     transitions are novel;
//   - stuck: a flatline (a frozen sensor or a dead exporter reporting 0),
//     i.e. a run of identical values 10% longer than any earlier run and at
//     least 33 samples long; it fires once per record-breaking run;
//   - record: a value beyond the all-time minimum or maximum by more than
//     2% of the range seen so far (a new peak, a reading never seen
//     before). Slow statistics absorb earlier excursions, so a breakout to
//     a new extreme can look ordinary to the z-score features; slow trends
//     move the range by small steps and stay quiet.
//
// The first three features each go through Numenta's anomaly-likelihood
// post-processor (a short moving average of the feature compared with the
// long-run distribution of that average, reported on Numenta's log scale;
// the long-run spread is floored, at 0.1 for novelty so that one new
// transition in a long, well-learned series is not a 10-sigma event). The
// feature likelihoods and the stuck and record flags are combined by taking
// the strongest, and the result is suppressed for a while after a
// detection because, as in ARTime and CAD OSE, repeated detections of one
// event only cost false positives.
//
// What it deliberately does not do: it keeps no history beyond fixed-size
// summaries (so state is bounded, under 1 KiB per series), it does not
// allocate in steady state, and it uses no randomness, so the same input
// always yields the same scores. It does not validate input: callers pass
// finite values in time order; a NaN or ±Inf sample is ignored (scored 0)
// rather than allowed to poison the state.
//
// Measured (internal/nabeval, NAB development subset, standard profile):
// 81.1 with the threshold swept and 80.0 for the Anomaly flags alone
// (reward-low-FP 72.7, reward-low-FN 85.8; the previous version: 72.3 and
// 71.6), at about 75 ns (100-140 ns on busy shared cores) and 0
// allocations per sample and 936 bytes (StateBytes) per series. Taking
// one change out of the final model at a time (threshold 0.44-0.50) costs
// about 5.5 points for the record detector (two windows no other feature
// reaches), 4.5 for the smoothed season profile (a third fewer false
// positives on the Twitter files), 2 for the longer slow and season
// memories and 1 for the novelty floor. Neighbouring
// settings (slow half-life 700-2000, season rate 0.015-0.035, record
// margin 0.005-0.03, threshold 0.44-0.50) stay within 78-82: the numbers
// are tuned on 19 files and will be lower on held-out data.
//
// Tried on the way and not kept, because they did not beat the above on
// the development subset: an ARTime-style adaptive-resonance learner over
// sliding windows of 8 block means (64 prototypes; alone 26-51, no gain in
// the max fusion), a second, medium-speed level-shift scale (-6),
// compressing (log1p) or winsorising each raw feature before the
// likelihood (-4 to -12: the heavy tails are what quiets repeats after an
// event), a peaks-over-threshold (exponential tail) likelihood instead of
// or blended with the Gaussian one (better on the Twitter files, worse
// elsewhere; -1 to -5 overall), a one-point tail recalibration from the
// observed rate of 2- or 3-sigma excursions (-1 to -2), a volatility
// feature (fast over slow mean absolute first difference, raw or log; 0
// to -1), a slow-drift feature (EWMA of half-life 70-230 against one of
// 2300-7000; no change), a deseasonalised shift feature (+0.2, noise), a
// sqrt or log variance-stabilising transform for integer counts (-0.1 to
// -1), a record range that decays toward the mean (-1 to -17), sum or
// partial-sum fusion instead of max (within noise), re-arming suppression
// only after the score falls back (-2), and a penalty that grows with the
// series' recent flag count (+0.3 standard, +1.5 reward-low-FP, within
// noise; left out for simplicity).
//
// Concurrency: a Detector is not safe for concurrent use; a Template is.
// The model keeps no table of series: the service keeps each series'
// Detector, by value, in its one per-series entry (package store) and
// updates it only while it owns that entry, so updates reach a series in
// time order.
//
// This package has no API stability promise.
package model
