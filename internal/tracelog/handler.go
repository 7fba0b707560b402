package tracelog

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Handler is a slog.Handler that adds trace_id and span_id to the records
// logged with a context that carries a valid span context.
type Handler struct {
	next slog.Handler
	// grouped is next before any WithGroup: the ids go there, so that
	// they stay top-level whatever groups the logger opened.
	groups []func(slog.Handler) slog.Handler
	base   slog.Handler
}

// New wraps next.
func New(next slog.Handler) *Handler { return &Handler{next: next, base: next} }

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

// WithAttrs returns a Handler whose wrapped handler has attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(h.groups) == 0 {
		return &Handler{next: h.next.WithAttrs(attrs), base: h.base.WithAttrs(attrs)}
	}
	return h.with(func(n slog.Handler) slog.Handler { return n.WithAttrs(attrs) })
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
	return &Handler{next: f(h.next), base: h.base, groups: groups}
}
