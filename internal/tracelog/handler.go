package tracelog

import (
	"context"
	"log/slog"
	"slices"

	"go.opentelemetry.io/otel/trace"
)

// Handler is a slog.Handler that adds trace_id and span_id to the records
// logged with a context that carries a valid span context.
type Handler struct {
	next slog.Handler
	// base is next before any WithGroup: the ids go there, so that
	// they stay top-level whatever groups the logger opened.
	groups []func(slog.Handler) slog.Handler
	base   slog.Handler
	// root is the wrapped handler without attributes, and attrs the
	// top-level attributes, one per key: base is root.WithAttrs(attrs).
	root  slog.Handler
	attrs []slog.Attr
}

// New wraps next.
func New(next slog.Handler) *Handler { return &Handler{next: next, base: next, root: next} }

// Enabled reports whether the wrapped handler handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the ids when ctx carries a valid span context.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return h.next.Handle(ctx, r)
	}
	ids := []slog.Attr{slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String())}
	if len(h.groups) == 0 {
		r.AddAttrs(ids...)
		return h.next.Handle(ctx, r)
	}
	// Rebuild the grouped handler over a base that carries the ids, so
	// they are rendered outside the groups.
	next := h.base.WithAttrs(ids)
	for _, g := range h.groups {
		next = g(next)
	}
	return next.Handle(ctx, r)
}

// WithAttrs returns a Handler whose wrapped handler has attrs. At the top
// level (before any WithGroup) a key given again replaces its earlier
// value, so a library's logger.With("component", ...) over a caller's
// never writes the key twice in one line.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(h.groups) == 0 {
		merged := mergeAttrs(h.attrs, attrs)
		base := h.root.WithAttrs(merged)
		return &Handler{next: base, base: base, root: h.root, attrs: merged}
	}
	return h.with(func(n slog.Handler) slog.Handler { return n.WithAttrs(attrs) })
}

// mergeAttrs returns old with add applied: a key in add replaces the
// attribute of that key in old, in place; new keys are appended.
func mergeAttrs(old, add []slog.Attr) []slog.Attr {
	out := append([]slog.Attr(nil), old...)
	for _, a := range add {
		if i := slices.IndexFunc(out, func(o slog.Attr) bool { return o.Key == a.Key }); i >= 0 && a.Key != "" {
			out[i] = a
			continue
		}
		out = append(out, a)
	}
	return out
}

// WithGroup returns a Handler whose wrapped handler opens group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(func(n slog.Handler) slog.Handler { return n.WithGroup(name) })
}

func (h *Handler) with(f func(slog.Handler) slog.Handler) *Handler {
	groups := append(h.groups[:len(h.groups):len(h.groups)], f)
	return &Handler{next: f(h.next), base: h.base, groups: groups, root: h.root, attrs: h.attrs}
}
