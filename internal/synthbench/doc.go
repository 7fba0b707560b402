// Package synthbench scores AstraGuard's two detector paths on the
// generated, labelled corpus of internal/synth: every anomaly type public
// benchmarks hold (level shift, spike, variance, frequency, amplitude,
// slope, flatline, dropout, duty cycle, inversion) on every base signal it
// applies to, at three sizes, plus anomaly-free series for false alarms.
//
// The series are replayed in-process through detector.Detector, wired as
// the service wires it (spaceeval.Run: model path, or heuristic path with
// the breaker forced open), restamped at a cadence from midnight UTC, and
// scored with telemanom's sequence protocol (spaceeval.Evaluate): only the
// test split counts, runs of flagged rows are predicted sequences, a
// sequence overlapping a label is a hit (each label once), one overlapping
// none a false positive. Reports give precision, recall and F1, recall per
// anomaly type and size, and false positives per series-day per family.
//
// It is a development tool like spaceeval: nothing the service or its
// binaries import may import it, and it has no API stability promise. It
// uses no labelled data set, only what internal/synth generates. Functions
// are safe for concurrent use; values returned are owned by the caller.
package synthbench
