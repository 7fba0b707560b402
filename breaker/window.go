package breaker

import "time"

// WindowCounts are the calls (successes and failures; ignored outcomes are
// not calls), failures and slow calls in a window.
type WindowCounts struct {
	Calls, Failures, Slow int
}

// countWindow is a ring of the last size outcomes with running sums.
type countWindow struct {
	ring []uint8 // bit 0: failure, bit 1: slow
	next int
	full bool
	sum  WindowCounts
}

const (
	outFail = 1 << iota
	outSlow
)

func newCountWindow(size int) countWindow {
	return countWindow{ring: make([]uint8, size)}
}

func (w *countWindow) add(fail, slow bool) {
	if len(w.ring) == 0 {
		return
	}
	if w.full {
		w.sum.sub(w.ring[w.next])
	}
	var v uint8
	if fail {
		v |= outFail
	}
	if slow {
		v |= outSlow
	}
	w.ring[w.next] = v
	w.sum.addOut(v)
	w.next++
	if w.next == len(w.ring) {
		w.next, w.full = 0, true
	}
}

func (w *countWindow) counts() WindowCounts { return w.sum }

func (w *countWindow) reset() {
	clear(w.ring)
	w.next, w.full, w.sum = 0, false, WindowCounts{}
}

func (c *WindowCounts) addOut(v uint8) {
	c.Calls++
	c.Failures += int(v & outFail)
	c.Slow += int(v & outSlow >> 1)
}

func (c *WindowCounts) sub(v uint8) {
	c.Calls--
	c.Failures -= int(v & outFail)
	c.Slow -= int(v & outSlow >> 1)
}

// timeWindow is a ring of fixed-length buckets covering the last length of
// time; a bucket older than the window is emptied before it is read or
// reused, so memory stays fixed however many calls arrive.
type timeWindow struct {
	width   int64 // ns per bucket
	buckets []timeBucket
	sum     WindowCounts
}

type timeBucket struct {
	epoch int64 // now/width of the bucket's slice; -1 when empty
	WindowCounts
}

func newTimeWindow(length time.Duration, n int) timeWindow {
	if n == 0 {
		return timeWindow{}
	}
	w := timeWindow{width: int64(length) / int64(n), buckets: make([]timeBucket, n)}
	w.reset()
	return w
}

func (w *timeWindow) add(now int64, fail, slow bool) {
	if len(w.buckets) == 0 {
		return
	}
	cur := w.expire(now)
	b := &w.buckets[int(cur%int64(len(w.buckets)))]
	b.epoch = cur
	var v uint8
	if fail {
		v |= outFail
	}
	if slow {
		v |= outSlow
	}
	b.addOut(v)
	w.sum.addOut(v)
}

// expire empties buckets that slid out of the window and returns the
// current bucket epoch.
func (w *timeWindow) expire(now int64) int64 {
	cur := max(now, 0) / w.width
	for i := range w.buckets {
		b := &w.buckets[i]
		if b.epoch >= 0 && b.epoch <= cur-int64(len(w.buckets)) {
			w.sum.Calls -= b.Calls
			w.sum.Failures -= b.Failures
			w.sum.Slow -= b.Slow
			*b = timeBucket{epoch: -1}
		}
	}
	return cur
}

func (w *timeWindow) counts(now int64) WindowCounts {
	if len(w.buckets) == 0 {
		return WindowCounts{}
	}
	w.expire(now)
	return w.sum
}

func (w *timeWindow) reset() {
	for i := range w.buckets {
		w.buckets[i] = timeBucket{epoch: -1}
	}
	w.sum = WindowCounts{}
}
