package ceiling

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// onlineCases are the study's budgeted settings, one of each code width
// and policy with a small M, and the unbounded reference.
func onlineCases() []OnlineKNN {
	return append(Budgeted(),
		OnlineKNN{W: 4, K: 2, M: 8, Policy: Novelty, Bits: 8},
		OnlineKNN{W: 4, K: 2, M: 8, Policy: Recent, Bits: 32},
		OnlineKNN{W: 10, K: 5, Bits: 32})
}

// wander is a sine with noise and a level that wanders, its amplitude
// growing (so the quantiser's range widens as it goes).
func wander(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, n)
	lvl := 0.0
	for i := range x {
		lvl += 0.01 * r.NormFloat64()
		x[i] = lvl + (1+float64(i)/500)*math.Sin(float64(i)/7) + 0.05*r.NormFloat64()
	}
	return x
}

// TestOnlineKNNIsCausal checks that no forecast reads a row at or after
// the one it predicts: two series equal up to row cut give the same
// forecasts up to row cut (Errors passes prefixes of one backing array,
// so a read past the prefix would see the difference), and different ones
// after it (the memory learns from the test rows).
func TestOnlineKNNIsCausal(t *testing.T) {
	const nTrain, nTest, ls, cut = 600, 900, 50, 500
	a := wander(nTrain+nTest, 7)
	b := append([]float64(nil), a...)
	r := rand.New(rand.NewPCG(8, 1))
	for i := nTrain + cut; i < len(b); i++ {
		b[i] = 3 * r.NormFloat64()
	}
	for _, o := range onlineCases() {
		fa, fb := o.Fit(a[:nTrain]), o.Fit(b[:nTrain])
		ta, tb := a[nTrain:], b[nTrain:]
		differ := false
		for i := ls; i < nTest; i++ {
			pa, pb := fa(ta[:i]), fb(tb[:i])
			if i <= cut && pa != pb {
				t.Fatalf("%v: forecasts of row %d differ (%v, %v) when only rows from %d do", o, i, pa, pb, cut)
			}
			differ = differ || pa != pb
		}
		if !differ {
			t.Errorf("%v: the same forecasts after row %d on different test rows: it does not learn from the stream", o, cut)
		}
	}
}

// TestOnlineKNNMemoryBound streams a long series with a widening range
// through each setting: the windows kept never exceed M, the codes stay
// the size they started, and every budgeted setting's bytes are within
// Budget.
func TestOnlineKNNMemoryBound(t *testing.T) {
	x := wander(20000, 9)
	for _, o := range onlineCases() {
		if o.M == 0 {
			continue
		}
		s, err := o.NewStream()
		if err != nil {
			t.Fatal(err)
		}
		before := memLen(s)
		for i, v := range x {
			s.Observe(v)
			if s.Len() > o.M {
				t.Fatalf("%v: %d windows after %d values, bound %d", o, s.Len(), i+1, o.M)
			}
		}
		if s.Len() != o.M {
			t.Errorf("%v: %d windows after %d values, want it full (%d)", o, s.Len(), len(x), o.M)
		}
		if got := memLen(s); got != before {
			t.Errorf("%v: %d codes, started with %d", o, got, before)
		}
	}
	for _, o := range Budgeted() {
		if o.Bytes() > Budget {
			t.Errorf("%v: %d bytes, budget %d", o, o.Bytes(), Budget)
		}
	}
	if _, err := (OnlineKNN{W: 10, K: 5, M: 0, Bits: 16}).NewStream(); err == nil {
		t.Error("M 0 with int16 codes: no error")
	}
	if _, err := (OnlineKNN{W: 10, K: 5, M: 10, Bits: 12}).NewStream(); err == nil {
		t.Error("12-bit codes: no error")
	}
}

func memLen(s Stream) int {
	switch s := s.(type) {
	case *stream[int8]:
		return len(s.mem)
	case *stream[int16]:
		return len(s.mem)
	case *stream[float32]:
		return len(s.mem)
	}
	panic("unknown stream")
}

// TestOnlineKNNContinuesPeriod: after a sawtooth of period 20, each
// setting (with K 1: a small reservoir may hold fewer than 5 copies of a
// window) forecasts the next tooth within its code's resolution, on a
// range about 0 and on one offset far from 0 (the quantiser's step
// follows the range, not the magnitude).
func TestOnlineKNNContinuesPeriod(t *testing.T) {
	for _, off := range []float64{0, 5000} {
		for _, scale := range []float64{1, 1000} {
			train := make([]float64, 400)
			for i := range train {
				train[i] = off + scale*float64(i%20)/20
			}
			for _, o := range onlineCases() {
				if o.M > 0 && o.M < 20 || o.Policy == Reservoir && o.M > 0 && o.M < 100 {
					// Too small to hold a period's 20 windows; a
					// uniform 48 of 290 misses about 2 of them.
					continue
				}
				o.K = 1
				f := o.Fit(train[:300])
				tol := scale * 0.01 // int8: a step of range/127 or less
				if o.Bits == 32 {
					tol = 1e-6 * (off + scale)
				}
				for i := 300; i < 340; i++ {
					if got := f(train[300:i]); math.Abs(got-train[i]) > tol {
						t.Fatalf("offset %g scale %g, %v: forecast of row %d %v, want %v", off, scale, o, i, got, train[i])
					}
				}
			}
		}
	}
}

// TestNoveltyKeepsTheRare streams a flat series with one short burst at
// another level: the novelty memory keeps a burst window and forecasts the
// burst's level from a burst window; a reservoir of the same size, a
// uniform sample, has almost surely kept none.
func TestNoveltyKeepsTheRare(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 1))
	x := make([]float64, 3000)
	for i := range x {
		x[i] = 0.01 * r.NormFloat64()
		if i >= 1000 && i < 1015 {
			x[i] += 1
		}
	}
	burst := []float64{1, 1, 1, 1}
	for _, c := range []struct {
		pol  Policy
		want float64
	}{{Novelty, 1}, {Reservoir, 0}} {
		s, err := OnlineKNN{W: 4, K: 1, M: 16, Policy: c.pol, Bits: 16, Seed: 1}.NewStream()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range append(x, burst...) {
			s.Observe(v)
		}
		if got := s.Predict(); math.Abs(got-c.want) > 0.1 {
			t.Errorf("%v: forecast after a burst window %v, want about %v", c.pol, got, c.want)
		}
	}
}

// TestReservoirIsUniform streams a ramp (each value its own position):
// the windows a reservoir keeps come from the whole stream, about half
// from each half, not from its start or its end.
func TestReservoirIsUniform(t *testing.T) {
	const n = 20000
	s, err := OnlineKNN{W: 2, K: 1, M: 400, Policy: Reservoir, Bits: 32, Seed: 3}.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		s.Observe(float64(i))
	}
	early := 0
	for k := range s.Len() {
		if s.(*stream[float32]).mem[k*3+2] < n/2 {
			early++
		}
	}
	if early < 160 || early > 240 {
		t.Errorf("%d of 400 kept windows from the first half, want about 200", early)
	}
}

// TestOnlineKNNMatchesOffline: while the memory holds every window seen,
// the online kNN forecasts what KNN fitted on the same rows does (values
// small integers, so float32 distances are exact and ties break alike).
func TestOnlineKNNMatchesOffline(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	x := make([]float64, 700)
	for i := range x {
		x[i] = float64(r.IntN(4))
	}
	for _, o := range []OnlineKNN{
		{W: 5, K: 3, Bits: 32},
		{W: 5, K: 3, M: 1000, Policy: Reservoir, Bits: 32, Seed: 1},
		{W: 5, K: 3, M: 1000, Policy: Recent, Bits: 32},
	} {
		f := o.Fit(x[:300])
		for n := 300; n < len(x); n++ {
			want := KNN{W: 5, K: 3}.Fit(x[:n])(x[:n])
			if got := f(x[300:n]); got != want {
				t.Fatalf("%v: forecast of row %d %v, KNN's %v", o, n, got, want)
			}
		}
	}
}

// TestFrozenStopsLearning: a frozen memory is the one the train split
// left, whatever the test rows (a sine within the train split's range, so
// the codes keep their scale); an unfrozen one takes them in.
func TestFrozenStopsLearning(t *testing.T) {
	x := make([]float64, 3000)
	for i := range x {
		x[i] = math.Sin(float64(i) / 7)
	}
	for _, frozen := range []bool{true, false} {
		o := OnlineKNN{W: 10, K: 5, M: 160, Policy: Reservoir, Bits: 16, Seed: 1, Frozen: frozen}
		s, err := o.NewStream()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range x[:1000] {
			s.Observe(v)
		}
		if frozen {
			s.(*stream[int16]).freeze()
		}
		want := slices.Clone(s.(*stream[int16]).mem)
		for _, v := range x[1000:] {
			s.Observe(v)
		}
		if same := slices.Equal(s.(*stream[int16]).mem, want); same != frozen {
			t.Errorf("frozen %v: memory unchanged by 2000 test rows: %v", frozen, same)
		}
	}
	if _, err := (OnlineKNN{W: 10, K: 5, M: 160, Policy: Recent, Bits: 16, Frozen: true}).NewStream(); err == nil {
		t.Error("a frozen Recent memory: no error")
	}
}
