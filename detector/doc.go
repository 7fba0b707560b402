// Package detector scores telemetry samples for anomalies: the model first,
// through a circuit-breaker Gate, and the in-process heuristic whenever the
// model is unavailable, failing, slow or still learning a series.
//
// Every valid sample gets a score; every invalid sample (NaN, infinite, empty
// or overlong series id, a timestamp far in the future or out of order) gets
// a Verdict carrying a SampleError. Nothing is dropped.
//
// The package knows no transport and no breaker implementation: it declares
// the Model and Gate interfaces it needs and the caller wires concrete types
// in. It has no API stability promise.
//
// Series state: everything kept for a series (its time-order watermark,
// its heuristic state and, with the embedded model, the model's state)
// lives in one entry of one store.Table: a bounded table (Config.MaxSeries,
// least recently used evicted, never a lock-out) whose idle entries expire
// (Config.SeriesTTL, on their next sample or in Sweep). An evicted series
// that returns starts learning again. The entry holds the embedded model's
// state through a pointer, so that the table's slots hold only what every
// sample reads (the heuristic path never reads the model's state); the
// state belongs to its entry alone and is used only under its lock.
//
// Time: samples sent without timestamps are stamped with the receive time,
// the injected Clock made non-decreasing (stampClock), so a wall clock
// stepped back never orders a series' own stamps backwards. A watermark
// further ahead of the clock than Config.MaxClockSkew (restored, adopted,
// or set before the clock stepped back) is pulled back on the series' next
// sample (scoreTime.pullBack), so no watermark refuses a series for longer
// than the skew. The heuristic's and the model's own latest sample times
// (their cadence clocks) follow on the first accepted sample, which is
// earlier than them: each pulls its time back to a sample before it.
//
// Concurrency: a Detector is safe for concurrent use. A group of samples is
// scored while its series' entry is held (one hash, one shard lock), and
// with the embedded model the model is updated under that same hold, so
// model updates follow the order check. A remote model is called outside
// any lock; each call first claims its series, and a series already
// claimed by another call in flight is answered by the heuristic
// (ReasonSeriesBusy) rather than sent to the model out of order.
package detector
