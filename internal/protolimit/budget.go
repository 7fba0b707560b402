package protolimit

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// Budget bounds the memory of the messages a server decodes at once: each
// decode holds its decoded-size estimate (Measure, from the wire) until it
// has ended. Without one, gRPC decodes every call at once, however many:
// 30 concurrent requests of 400,000 empty series to the service, each
// within its decoded bound, took it to 1.2 GB.
//
// An estimate larger than the whole budget takes all of it: the message is
// decoded alone, never refused for its size (the codec's maxDecoded and
// gRPC's receive limit bound it).
//
// A decode that does not fit waits, in the codec, on its call's goroutine:
// gRPC gives Unmarshal no context, and an Unmarshal error ends the call as
// INTERNAL. It cannot deadlock: a holder only decodes, then releases, and
// waits for nothing while it holds. What it does not bound: a message's
// wire bytes, decompressed by gRPC before the codec runs (at most the
// receive limit per call), held while it waits too (Admit frees the
// codec's own copy meanwhile).
//
// A nil *Budget bounds nothing: Admit only measures. Budget is safe for
// concurrent use.
type Budget struct {
	sem  *semaphore.Weighted
	size int64
	now  atomic.Int64  // bytes held
	held func(n int64) // WithHeld; nil: none
	wait func()        // WithWait; nil: none
}

// BudgetOption configures a Budget.
type BudgetOption func(*Budget)

// WithHeld calls f with the bytes held after each acquire (a test's view
// of the budget; Held is the metric's).
func WithHeld(f func(held int64)) BudgetOption { return func(b *Budget) { b.held = f } }

// WithWait calls f before a decode waits for room.
func WithWait(f func()) BudgetOption { return func(b *Budget) { b.wait = f } }

// NewBudget returns a budget of size bytes (at least 1).
func NewBudget(size int64, opts ...BudgetOption) *Budget {
	size = max(size, 1)
	b := &Budget{sem: semaphore.NewWeighted(size), size: size}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Size is the budget's size in bytes.
func (b *Budget) Size() int64 { return b.size }

// Held is the bytes held by decodes now; 0 for a nil budget.
func (b *Budget) Held() int64 {
	if b == nil {
		return 0
	}
	return b.now.Load()
}

// Admit returns data in one buffer (from gRPC's pool, as gRPC's proto
// codec does), once b holds m's estimated decoded size, returned as held
// for Release after the decode; the caller frees buf. A message whose
// estimate exceeds maxDecoded is refused (Measure's error) and holds
// nothing. A call that waits for room frees its copy meanwhile, keeping
// only gRPC's. A nil b admits at once.
func (b *Budget) Admit(data mem.BufferSlice, m proto.Message, maxDecoded int64) (buf mem.Buffer, held int64, err error) {
	pool := mem.DefaultBufferPool()
	buf = data.MaterializeToBuffer(pool)
	size, err := Measure(buf.ReadOnlyData(), m, maxDecoded)
	if err != nil {
		buf.Free()
		return nil, 0, err
	}
	if b == nil {
		return buf, 0, nil
	}
	if held, ok := b.TryAcquire(size); ok {
		return buf, held, nil
	}
	buf.Free()
	held = b.Acquire(size)
	return data.MaterializeToBuffer(pool), held, nil
}

// TryAcquire takes n bytes, or all of them when n is larger, if they are
// free, and returns what it took, for Release.
func (b *Budget) TryAcquire(n int64) (int64, bool) {
	n = min(n, b.size)
	if !b.sem.TryAcquire(n) {
		return 0, false
	}
	b.took(n)
	return n, true
}

// Acquire is TryAcquire that waits for the bytes.
func (b *Budget) Acquire(n int64) int64 {
	n = min(n, b.size)
	if b.wait != nil {
		b.wait()
	}
	_ = b.sem.Acquire(context.Background(), n) // fails only once its context is done: never
	b.took(n)
	return n
}

func (b *Budget) took(n int64) {
	held := b.now.Add(n)
	if b.held != nil {
		b.held(held)
	}
}

// Release gives back n bytes; a nil budget holds none.
func (b *Budget) Release(n int64) {
	if b == nil {
		return
	}
	b.now.Add(-n)
	b.sem.Release(n)
}
