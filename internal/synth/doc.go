// Package synth generates the same telemetry at different sampling
// cadences (1 s, 1 min, 5 min, 1 h) with the same injected anomalies
// (level shift, spike, stuck sensor, broken daily pattern, drift) and
// measures a streaming detector's detection delay and false-positive rate
// on each, so cadence dependence shows up as a table (make eval) and in
// tests.
//
// The signal is a daily sine (amplitude 3) around 10 with independent
// Gaussian noise of standard deviation 0.5 per sample; every anomaly
// starts at StartDay, midnight UTC. Generation is deterministic. It is a
// tool for the model's own tests and evaluation, not part of the service,
// and has no API stability promise.
package synth
