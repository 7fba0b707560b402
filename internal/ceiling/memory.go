package ceiling

import (
	"math"
	"math/rand/v2"
)

// An OnlineKNN's memory on one series: the codes, the quantiser, the
// policy's bookkeeping and the search.

// code is how a memory stores a value.
type code interface{ ~int8 | ~int16 | ~float32 }

type stream[T code] struct {
	o     OnlineKNN
	qmax  float64 // largest code; 0: T is float32 and codes are values
	mid   float64 // the quantiser: v = mid + step*code
	step  float64
	begun bool
	mem   []T  // Recent: a ring of M+W codes; else slots of W+1 codes
	used  int  // slots filled (Recent: values in the ring)
	head  int  // Recent: where the next value goes
	n     int  // windows offered so far
	last  []T  // the last W codes, oldest first (not Recent)
	have  int  // values seen, up to W
	stop  bool // frozen: windows are no longer offered
	rng   *rand.Rand
	nnd   []float32 // Novelty: each slot's distance to its nearest other
	nni   []int32   // Novelty: that nearest slot
	q     []float32 // Predict's query
	dist  []float32 // Predict's K best
	next  []float32
	bound float32   // the largest of dist once it holds K, else +Inf
	cd    []float32 // Novelty: the offered window's distance to each slot
}

func newStream[T code](o OnlineKNN, qmax float64) *stream[T] {
	s := &stream[T]{o: o, qmax: qmax, step: 1,
		last: make([]T, 0, o.W), q: make([]float32, o.W),
		dist: make([]float32, 0, o.K), next: make([]float32, 0, o.K)}
	switch {
	case o.Policy == Recent:
		s.mem = make([]T, o.M+o.W)
	case o.M > 0:
		s.mem = make([]T, o.M*(o.W+1))
	}
	if o.Policy == Reservoir {
		s.rng = rand.New(rand.NewPCG(o.Seed, 1))
	}
	if o.Policy == Novelty {
		s.nnd, s.nni, s.cd = make([]float32, o.M), make([]int32, o.M), make([]float32, o.M)
	}
	return s
}

func (s *stream[T]) Len() int {
	if s.o.Policy == Recent {
		return max(0, s.used-s.o.W)
	}
	return s.used
}

// encode returns v's code, widening the range first when it does not fit.
func (s *stream[T]) encode(v float64) T {
	if s.qmax == 0 {
		return T(v)
	}
	if !s.begun {
		s.mid, s.step, s.begun = v, math.Max(math.Abs(v), 1)*0x1p-40, true
	}
	c := (v - s.mid) / s.step
	if math.Abs(c) > s.qmax {
		f := math.Exp2(math.Ceil(math.Log2(math.Abs(c) / s.qmax)))
		s.step *= f
		c /= f
		rescale(s.mem, f)
		rescale(s.last, f)
		for i := range s.nnd {
			s.nnd[i] /= float32(f * f)
		}
	}
	return T(math.Round(c))
}

func rescale[T code](x []T, f float64) {
	for i, c := range x {
		x[i] = T(math.Round(float64(c) / f))
	}
}

func (s *stream[T]) decode(c float64) float64 {
	if s.qmax == 0 {
		return c
	}
	return s.mid + s.step*c
}

// Observe offers the window of the last W values with v after it to the
// memory, then makes v the latest value.
func (s *stream[T]) Observe(v float64) {
	c := s.encode(v)
	w := s.o.W
	if s.o.Policy == Recent {
		s.mem[s.head] = c
		s.head = (s.head + 1) % len(s.mem)
		s.used = min(s.used+1, len(s.mem))
		return
	}
	if s.have == w {
		s.offer(c)
		copy(s.last, s.last[1:])
		s.last[w-1] = c
		return
	}
	s.last = append(s.last, c)
	s.have++
}

func (s *stream[T]) freeze() { s.stop = true }

// offer stores (last, c) where the policy says, or drops it.
func (s *stream[T]) offer(c T) {
	if s.stop {
		return
	}
	s.n++
	w1 := s.o.W + 1
	slot := s.used
	if s.o.Policy == Novelty {
		s.distances()
	}
	switch {
	case s.o.M == 0:
		s.mem = append(append(s.mem, s.last...), c)
		s.used++
		return
	case s.used < s.o.M:
		s.used++
	case s.o.Policy == Reservoir:
		if slot = s.rng.IntN(s.n); slot >= s.o.M {
			return
		}
	case s.o.Policy == Novelty:
		if slot = s.redundant(); slot < 0 {
			return
		}
	}
	copy(s.mem[slot*w1:], s.last)
	s.mem[slot*w1+s.o.W] = c
	if s.o.Policy == Novelty {
		s.placed(slot)
	}
}

// Predict is the mean of what followed the K kept windows nearest to the
// latest W values, decoded; the latest value while the memory is empty.
func (s *stream[T]) Predict() float64 {
	w := s.o.W
	s.dist, s.next, s.bound = s.dist[:0], s.next[:0], float32(math.Inf(1))
	if s.o.Policy == Recent {
		if s.used <= w {
			return s.latest()
		}
		s.searchRing()
	} else {
		if s.have < w || s.used == 0 {
			return s.latest()
		}
		for j, c := range s.last {
			s.q[j] = float32(c)
		}
		w1 := w + 1
		for k := range s.used {
			s.window(s.mem[k*w1 : k*w1+w1])
		}
	}
	var sum float64
	for _, v := range s.next {
		sum += float64(v)
	}
	return s.decode(sum / float64(len(s.next)))
}

// window considers one window of W codes and the code after it (row),
// abandoning the distance once it cannot enter the K best.
func (s *stream[T]) window(row []T) {
	q, bound := s.q, s.bound
	row = row[:len(q)+1]
	// Four sums break the chain of dependent additions; the bound is
	// checked every four values.
	var d0, d1, d2, d3 float32
	j := 0
	for ; j+3 < len(q); j += 4 {
		e0, e1 := float32(row[j])-q[j], float32(row[j+1])-q[j+1]
		e2, e3 := float32(row[j+2])-q[j+2], float32(row[j+3])-q[j+3]
		d0, d1, d2, d3 = d0+e0*e0, d1+e1*e1, d2+e2*e2, d3+e3*e3
		if (d0+d1)+(d2+d3) >= bound {
			return
		}
	}
	for ; j < len(q); j++ {
		e := float32(row[j]) - q[j]
		d0 += e * e
	}
	if d := (d0 + d1) + (d2 + d3); d < bound {
		s.consider(d, float32(row[len(q)]))
	}
}

// searchRing considers every window of Recent's ring whose next value is
// in it: directly where a window does not wrap, through a copy where it
// does.
func (s *stream[T]) searchRing() {
	w, n := s.o.W, len(s.mem)
	start := (s.head - w + n) % n // the query: the last W values
	for j := range s.q {
		s.q[j] = float32(s.mem[(start+j)%n])
	}
	first := (s.head - s.used + n) % n
	var wrap [64]T
	for k := 0; k < s.used-w; k++ {
		at := (first + k) % n
		if at+w < n {
			s.window(s.mem[at : at+w+1])
			continue
		}
		row := wrap[:0]
		if w+1 > len(wrap) {
			row = make([]T, 0, w+1)
		}
		for j := range w + 1 {
			row = append(row, s.mem[(at+j)%n])
		}
		s.window(row)
	}
}

// latest is the latest value observed (0 before any).
func (s *stream[T]) latest() float64 {
	if s.o.Policy == Recent {
		if s.used == 0 {
			return 0
		}
		return s.decode(float64(s.mem[(s.head-1+len(s.mem))%len(s.mem)]))
	}
	if len(s.last) == 0 {
		return 0
	}
	return s.decode(float64(s.last[len(s.last)-1]))
}

// consider keeps (d, next) when it is among the K nearest so far.
func (s *stream[T]) consider(d, next float32) {
	if len(s.dist) < s.o.K {
		s.dist, s.next = append(s.dist, d), append(s.next, next)
		if len(s.dist) == s.o.K {
			s.bound = s.dist[s.worst()]
		}
		return
	}
	if d < s.bound {
		at := s.worst()
		s.dist[at], s.next[at] = d, next
		s.bound = s.dist[s.worst()]
	}
}

func (s *stream[T]) worst() int {
	at := 0
	for i, v := range s.dist {
		if v > s.dist[at] {
			at = i
		}
	}
	return at
}
