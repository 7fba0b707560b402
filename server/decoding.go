package server

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// decoding bounds the memory of the requests the server decodes at once:
// each decode holds its decoded-size estimate (protolimit.Measure, from
// the wire) until it has ended, and the handler's charge (the waiting
// room, room) takes over from there. Without it every RPC decoded at once
// however many there were: 30 concurrent requests of 400,000 empty series,
// each within the decoded bound, took the server to 1.2 GB.
//
// It is as large as the waiting room (half of MaxQueuedBytes), so all
// request memory is at most one and a half MaxQueuedBytes: decoding,
// waiting, admitted. An estimate larger than the whole size takes all of
// it: the request is decoded alone, never refused for its size
// (MaxRecvMsgBytes and decodedBound bound it).
//
// A decode that does not fit waits, in the codec, on its RPC's goroutine:
// gRPC gives Unmarshal no context, and its error would end the call as
// INTERNAL. It cannot deadlock: a holder only decodes, then releases, and
// waits for nothing while it holds. What it does not bound: the request's
// wire bytes, decompressed by gRPC before the codec runs (at most
// MaxRecvMsgBytes per RPC), held while it waits too (the codec frees its
// own copy meanwhile).
//
// decoding is safe for concurrent use.
type decoding struct {
	sem  *semaphore.Weighted
	size int64
	now  atomic.Int64  // bytes held, for the gauge and hooks
	held func(n int64) // streamHooks.decoding; nil: none
	wait func()        // streamHooks.decodeWait; nil: none
}

func newDecoding(size int64, h streamHooks) *decoding {
	size = max(size, 1)
	return &decoding{sem: semaphore.NewWeighted(size), size: size, held: h.decoding, wait: h.decodeWait}
}

// tryAcquire takes n bytes, or all of them when n is larger, if they are
// free, and returns what it took, for release.
func (d *decoding) tryAcquire(n int64) (int64, bool) {
	n = min(n, d.size)
	if !d.sem.TryAcquire(n) {
		return 0, false
	}
	d.took(n)
	return n, true
}

// acquire is tryAcquire that waits for the bytes.
func (d *decoding) acquire(n int64) int64 {
	n = min(n, d.size)
	if d.wait != nil {
		d.wait()
	}
	_ = d.sem.Acquire(context.Background(), n) // fails only once its context is done: never
	d.took(n)
	return n
}

func (d *decoding) took(n int64) {
	held := d.now.Add(n)
	if d.held != nil {
		d.held(held)
	}
}

// release gives back n bytes; a nil decoding holds none.
func (d *decoding) release(n int64) {
	if d == nil {
		return
	}
	d.now.Add(-n)
	d.sem.Release(n)
}
