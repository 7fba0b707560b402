package ceiling

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// noise returns n absolute errors about level with deviation sd, and values
// (a unit sine) for the 5-95 percentile range check.
func noise(n int, level, sd float64, seed uint64) (e, y []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	e, y = make([]float64, n), make([]float64, n)
	for i := range e {
		e[i] = math.Abs(level + sd*r.NormFloat64())
		y[i] = math.Sin(float64(i) / 40)
	}
	return e, y
}

func TestDetectFindsBump(t *testing.T) {
	p := Telemanom()
	e, y := noise(6000, 0.1, 0.02, 1)
	for i := 4000; i < 4060; i++ {
		e[i] += 1
	}
	seqs := p.Detect(p.Smooth(e), y)
	if len(seqs) != 1 {
		t.Fatalf("sequences %v, want one around rows 4000-4060", seqs)
	}
	if s := seqs[0]; s[0] > 4060 || s[1] < 4000 || s[1]-s[0] > 600 {
		t.Fatalf("sequence %v, want one overlapping rows 4000-4060", s)
	}
}

func TestDetectFindsDip(t *testing.T) {
	// The errors fall to nearly nothing for a stretch (the inverted pass).
	p := Telemanom()
	e, y := noise(6000, 0.3, 0.02, 2)
	for i := 4000; i < 4300; i++ {
		e[i] = 0.001
	}
	seqs := p.Detect(p.Smooth(e), y)
	if len(seqs) != 1 || seqs[0][0] > 4300 || seqs[0][1] < 4000 {
		t.Fatalf("sequences %v, want one overlapping rows 4000-4300", seqs)
	}
}

func TestDetectNoiseYieldsNothing(t *testing.T) {
	p := Telemanom()
	for seed := uint64(1); seed <= 5; seed++ {
		e, y := noise(6000, 0.3, 0.1, seed)
		if seqs := p.Detect(p.Smooth(e), y); len(seqs) != 0 {
			t.Errorf("seed %d: sequences %v on flat noise, want none", seed, seqs)
		}
	}
}

func TestPrune(t *testing.T) {
	w := &window{p: Telemanom()}
	// seqs lays out one ten-row sequence per maximum (the last row of each
	// is outside telemanom's max, so it is left at zero).
	seqs := func(maxes ...float64) (e []float64, idx []int) {
		e = make([]float64, 20*len(maxes))
		for k, m := range maxes {
			for i := 20 * k; i < 20*k+10; i++ {
				if i < 20*k+9 {
					e[i] = m
				}
				idx = append(idx, i)
			}
		}
		return e, idx
	}
	// 2 -> 0.95 is a large drop; 0.95 -> 0.93 and 0.93 -> the largest
	// other error 0.9 are not: both smaller sequences go.
	e, idx := seqs(2, 0.95, 0.93)
	if got := w.prune(e, idx, 0.9); len(got) != 10 || got[0] != 0 || got[9] != 9 {
		t.Fatalf("kept %v, want rows 0-9", got)
	}
	// 2 -> 1.9 is small, but a large drop follows (1.9 -> 1): all stay.
	e, idx = seqs(2, 1.9, 1)
	if got := w.prune(e, idx, 0.5); len(got) != 30 {
		t.Fatalf("kept %v, want all 30 rows", got)
	}
	// Every drop small, down to the other errors: nothing is kept.
	e, idx = seqs(1, 0.95)
	if got := w.prune(e, idx, 0.9); len(got) != 0 {
		t.Fatalf("kept %v, want none", got)
	}
}

func TestSmoothIsPandasEWM(t *testing.T) {
	p := Telemanom()
	p.LS = 0
	got := p.Smooth([]float64{1, 0, 0})
	a := 2.0 / 106 // span 105
	want := []float64{1, (1 - a) / (1 + (1 - a)), (1 - a) * (1 - a) / (1 + (1 - a) + (1-a)*(1-a))}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("Smooth = %v, want %v", got, want)
		}
	}
	p.LS = 1 // the first value becomes the mean of the first two
	if got := p.Smooth([]float64{1, 0, 0}); math.Abs(got[0]-(1+want[1])/2) > 1e-12 || got[1] != want[1] {
		t.Fatalf("Smooth with LS 1 = %v", got)
	}
}

// TestCausalUsesNoLaterErrors: with Causal, the flags of every batch that
// ends before row cut are the same whatever the errors after it (here a
// large bump in them, or none at all), where telemanom's first window
// changes its verdicts when the bump enters it.
func TestCausalUsesNoLaterErrors(t *testing.T) {
	e, y := noise(2000, 0.1, 0.02, 7)
	for i := 600; i < 660; i++ {
		e[i] += 0.5 // found with or without what follows
	}
	bumped := append([]float64(nil), e...)
	for i := 1500; i < 1560; i++ {
		bumped[i] += 3
	}
	const cut = 1400 // a multiple of the batch size
	flags := func(p Params, e, y []float64) []bool {
		f := make([]bool, cut)
		for _, s := range p.Detect(p.Smooth(e), y) {
			for i := s[0]; i <= min(s[1], cut-1); i++ {
				f[i] = true
			}
		}
		return f
	}
	p := Telemanom()
	p.Causal = true
	a, b, c := flags(p, e, y), flags(p, bumped, y), flags(p, e[:cut], y[:cut])
	if !slices.Equal(a, b) || !slices.Equal(a, c) {
		t.Fatal("causal: flags before the cut depend on the errors after it")
	}
	if count(a) == 0 {
		t.Fatal("causal: the first bump is not found")
	}
	p.Causal = false
	if slices.Equal(flags(p, e, y), flags(p, bumped, y)) {
		t.Fatal("telemanom's first window: flags before the cut ignore the bump after it (want them to change: it sees the whole window)")
	}
}

func TestJudged(t *testing.T) {
	p := Telemanom()
	for _, c := range []struct{ n, from, to int }{
		{6000, 750, 5990}, // 5740 errors: the first 500 ignored
		{2400, 500, 2390}, // 2140 errors: 250
		{2051, 250, 2041}, // 1791 errors: none
		{200, 200, 200},   // no errors at all
	} {
		if from, to := p.Judged(c.n); from != c.from || to != c.to {
			t.Errorf("Judged(%d) = %d, %d, want %d, %d", c.n, from, to, c.from, c.to)
		}
	}
	// A large error at the very start of the judged rows' predecessors is
	// not flagged before from.
	e, y := noise(6000-p.LS-Horizon, 0.1, 0.02, 9)
	for i := 300; i < 360; i++ {
		e[i] += 2
	}
	test := make([]float64, 6000)
	copy(test[p.LS:], y)
	f := p.Flags(e, test)
	from, to := p.Judged(6000)
	for i, v := range f {
		if v && (i < from || i >= to) {
			t.Fatalf("test row %d flagged, outside the judged rows [%d, %d)", i, from, to)
		}
	}
}

func count(flag []bool) int {
	n := 0
	for _, f := range flag {
		if f {
			n++
		}
	}
	return n
}
