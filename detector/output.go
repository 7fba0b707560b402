package detector

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrInvalidOutput reports model output the detector cannot use: a score
// that is NaN, ±Inf or outside [0, 1], or (from a remote model's adapter)
// outputs of the wrong name, datatype, shape or count. Such a batch falls
// back to the heuristic with ReasonModelInvalidOutput and counts as a model
// failure for the Gate: a clamped or guessed score would be a silent wrong
// answer.
var ErrInvalidOutput = errors.New("invalid model output")

// checkOutput returns an error wrapping ErrInvalidOutput when any score of
// preds is not a finite number in [0, 1]. Scores of samples the model calls
// cold are checked too: a model that emits NaN there is broken all the same.
func checkOutput(preds []Prediction) error {
	for i, p := range preds {
		if !(p.Score >= 0 && p.Score <= 1) { // also catches NaN
			return fmt.Errorf("%w: score %v of sample %d is not in [0, 1]", ErrInvalidOutput, p.Score, i)
		}
	}
	return nil
}

// failureReason is the fallback reason of a failed model call.
func failureReason(err error) Reason {
	switch {
	case errors.Is(err, ErrInvalidOutput):
		return ReasonModelInvalidOutput
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonModelTimeout
	}
	return ReasonModelError
}

// logLimiter lets one log line through per interval and counts the rest,
// so a model that fails every call is reported at WARN without a line per
// batch. It is safe for concurrent use and takes no lock.
type logLimiter struct {
	interval   time.Duration
	next       atomic.Int64 // unix nanos before which lines are suppressed
	suppressed atomic.Int64
}

// allow reports whether a line may be logged at now and, if so, how many
// were suppressed since the last one.
func (l *logLimiter) allow(now time.Time) (ok bool, suppressed int64) {
	n, next := now.UnixNano(), l.next.Load()
	if n < next || !l.next.CompareAndSwap(next, n+l.interval.Nanoseconds()) {
		l.suppressed.Add(1)
		return false, 0
	}
	return true, l.suppressed.Swap(0)
}

// modelErrorLogInterval is the least time between two "model call failed"
// lines.
const modelErrorLogInterval = 10 * time.Second

// modelFailed answers the batch from the heuristic after a failed model
// call (or embedded pass) and reports the failure: at WARN, at most once per
// modelErrorLogInterval, unless the caller was gone first (then the model
// is not to blame and the line goes at DEBUG).
func (d *Detector) modelFailed(ctx context.Context, out []Verdict, err error, valid int) {
	reason := failureReason(err)
	if reason == ReasonModelInvalidOutput {
		d.metrics.invalidOutputs.Inc()
	}
	if ctx.Err() != nil {
		d.opts.logger.DebugContext(ctx, "model call ended with the caller", "err", err, "samples", valid)
	} else if ok, suppressed := d.modelLog.allow(d.opts.clock.Now()); ok {
		d.opts.logger.WarnContext(ctx, "model call failed; the heuristic answers",
			"err", err, "reason", reason.String(), "samples", valid, "suppressed_since_last", suppressed)
	}
	d.fallback(out, reason, valid)
}
