package ceiling

import "math"

// The Novelty policy's bookkeeping: each kept window's distance to its
// nearest other kept window (nnd) and which one it is (nni).

// sq is the squared distance of slot i's window to the codes q.
func (s *stream[T]) sq(i int, q []float32) float32 {
	w := s.mem[i*(s.o.W+1) : i*(s.o.W+1)+s.o.W]
	var d float32
	for j, v := range w {
		e := float32(v) - q[j]
		d += e * e
	}
	return d
}

// distances fills cd with the distance of the window on offer (the last W
// codes) to every filled slot.
func (s *stream[T]) distances() {
	for j, c := range s.last {
		s.q[j] = float32(c)
	}
	for i := range s.used {
		s.cd[i] = s.sq(i, s.q)
	}
}

// redundant returns the slot the window on offer replaces: the one nearest
// to another kept window, when the offered window is farther than that from
// every kept one; -1 when it is not.
func (s *stream[T]) redundant() int {
	r := 0
	for i := range s.used {
		if s.nnd[i] < s.nnd[r] {
			r = i
		}
	}
	dc := float32(math.Inf(1))
	for i := range s.used {
		dc = min(dc, s.cd[i])
	}
	if dc > s.nnd[r] {
		return r
	}
	return -1
}

// placed updates the nearest neighbours after the window on offer went
// into slot (cd still holds its distances to the other slots): its own,
// those now nearer to it, and those whose nearest was the window it
// replaced.
func (s *stream[T]) placed(slot int) {
	inf := float32(math.Inf(1))
	s.nnd[slot], s.nni[slot] = inf, -1
	for i := range s.used {
		if i == slot {
			continue
		}
		d := s.cd[i]
		if d < s.nnd[slot] {
			s.nnd[slot], s.nni[slot] = d, int32(i)
		}
		switch {
		case s.nni[i] == int32(slot):
			s.nearest(i)
		case d < s.nnd[i]:
			s.nnd[i], s.nni[i] = d, int32(slot)
		}
	}
}

// nearest recomputes slot i's nearest other slot.
func (s *stream[T]) nearest(i int) {
	w1 := s.o.W + 1
	for j, c := range s.mem[i*w1 : i*w1+s.o.W] {
		s.q[j] = float32(c)
	}
	s.nnd[i], s.nni[i] = float32(math.Inf(1)), -1
	for j := range s.used {
		if d := s.sq(j, s.q); j != i && d < s.nnd[i] {
			s.nnd[i], s.nni[i] = d, int32(j)
		}
	}
}
