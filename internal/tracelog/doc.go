// Package tracelog adds the trace and span ids of the current span to
// slog records: Handler wraps another slog.Handler and, when the record's
// context carries a valid span context, appends trace_id and span_id.
//
// Contract: records logged without a context, or with one that carries no
// valid span context, pass through unchanged; the wrapped handler's
// level, attributes and groups are kept. The ids are added at the top
// level of the record, before any group opened by WithGroup, so that
// "trace_id" is found at the same place in every line. A top-level
// attribute added again with the same key (a library's "component" over
// its caller's) replaces the earlier one: a line never carries a key twice.
package tracelog
