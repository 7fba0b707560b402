// Package synth generates telemetry with known anomalies, for the model's
// own tests and for evaluation. It uses no labelled data set: everything is
// generated from seeds. Generation is deterministic (its own generator, an
// LCG through Box-Muller, so results do not depend on math/rand's
// versions). It is not part of the service and has no API stability
// promise; functions are safe for concurrent use.
//
// # Cadence scenarios
//
// Run generates the same telemetry at different sampling cadences (1 s,
// 1 min, 5 min, 1 h) with the same injected anomalies (level shift, spike,
// stuck sensor, broken daily pattern, drift) and measures a streaming
// detector's detection delay and false-positive rate on each, so cadence
// dependence shows up as a table (make eval) and in tests. The signal is a
// daily sine (amplitude 3) around 10 with independent Gaussian noise of
// standard deviation 0.5 per sample; every anomaly starts at StartDay,
// midnight UTC.
//
// # Labelled corpus
//
// Corpus and Generate build a labelled benchmark corpus covering the
// anomaly types public benchmarks contain (internal/synthbench scores it).
// Each series is TrainDays of anomaly-free history then TestDays that are
// scored, sampled at a given cadence from midnight UTC; its periods and
// durations are in time, so the same series at 1 min and at 5 min shows the
// same events. Each series gets a random offset (-100 to 100) and scale
// (10^-1.5 to 10^1.5), so nothing may depend on units.
//
// Base signal families, in units of their noise standard deviation (or
// level gap, or quantum):
//
//   - gauss, student, laplace: white noise, Gaussian, Student-t(3) and
//     Laplace (heavy-tailed), unit variance;
//   - ar1: an AR(1) with coefficient 0.99 per sample, close to a random
//     walk (innovations of unit variance);
//   - orbit20m, orbit95m, wave6h, daily: a sine of amplitude 3-6 and period
//     20 min, 95 min (a low Earth orbit), 6 h (each ±5%) or one UTC day,
//     plus Gaussian noise;
//   - square: a two-valued mode channel (gap 1, no noise), period 30 min,
//     95 min or 3 h, duty cycle 0.4;
//   - modes: a four-valued mode channel (0-3, no noise), each dwell 20 min to
//     2 h, then a different state at random;
//   - quantised: a daily wave of amplitude 3-6 plus noise of 0.3, rounded
//     to a quantum of 1 (a coarse sensor: about a dozen values, long runs);
//   - trend: a linear trend of 0.5-1.5 per day plus Gaussian noise;
//   - sawtooth: a ramp of height 6-12 over 95 min (±5%), then a drop, plus
//     Gaussian noise.
//
// Anomaly types, each at three sizes (hard, medium, easy), lasting 1-12 h
// unless stated (frequency and inversion at least 1.5 periods, duty 6-24 h),
// starting at a random time of the test days:
//
//   - shift: a level added, 2, 4 or 8 units;
//   - spike: 4, 8 or 16 units added for 1-3 samples (up or down);
//   - variance: the noise's standard deviation multiplied by 1.5, 2.5 or 5
//     (independent noise added);
//   - frequency: the period divided or multiplied by 1.2, 1.5 or 2.5 (the
//     phase resynchronises at the end);
//   - amplitude: the wave's amplitude multiplied by 1.5, 2.2 or 4, or by
//     0.6, 0.3 or 0 (the wave vanishes);
//   - slope: a ramp reaching 3, 6 or 12 units at the end, then back;
//   - stuck: the value freezes for 30 min, 2 h or 8 h;
//   - dropout: the value drops to a constant: the median of the day before
//     (inside the range), its minimum (the edge) or the minimum less the
//     range (far outside);
//   - duty: on mode channels, a dwell multiplied or divided by 1.5, 2.5 or 5
//     (square: the duty cycle; modes: one state's dwells);
//   - inversion: the wave mirrored, on a series of wave amplitude 1.5, 3 or
//     6 (square: the states swapped for 1.5, 3 or 6 periods).
//
// Anomalies change the observation, never the hidden state, so a series
// equals its anomaly-free twin outside [Start, End]. A held value (stuck,
// dropout) starts at the first row where it differs from what the series
// would have shown. The label is [Start, End + Grace]: a flag on the
// return to normal within Grace is part of the event. Every family also has
// anomaly-free series, for false alarms.
package synth
