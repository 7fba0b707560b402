// Package spaceeval scores AstraGuard on spacecraft telemetry (NASA SMAP
// and MSL channels with expert labels, ../shared/spacecraft) with the
// protocol of telemanom (Hundman et al., KDD 2018, evaluate_sequences):
// only test-split rows are scored; predicted sequences are runs of
// consecutive flagged test rows; per label row, a predicted sequence that
// overlaps a labelled one is a hit (each labelled sequence is one true
// positive at most, the first it overlaps), one that overlaps none is one
// false positive, and an unmatched labelled sequence is a false negative.
// Precision, recall and F1 come from the totals over all label rows, and
// recall is also reported per anomaly class (point, contextual). The
// numbers are the reference scorer's (../shared/spacecraft/score.py), which
// TestMatchesScorePy checks on a committed fixture.
//
// It reads the verdict CSVs agctl replay writes (Score, ReadRun) and can
// replay the channels in-process through detector.Detector, model path or
// heuristic path, at any cadence (Replay), so cross-validation runs without
// the service.
//
// It is a development tool: nothing the service or its binaries import may
// import it, and it has no API stability promise. Functions are safe for
// concurrent use; values returned are owned by the caller.
package spaceeval
