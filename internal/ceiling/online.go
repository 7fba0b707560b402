package ceiling

import (
	"fmt"
	"math"
)

// Policy is how an OnlineKNN's bounded memory chooses the windows it keeps.
type Policy int

const (
	// Reservoir keeps a uniform random sample of every window seen so far
	// (Vitter 1985, algorithm R): the n-th window replaces a random one of
	// the M kept with probability M/n.
	Reservoir Policy = iota
	// Recent keeps the latest M windows: a ring of the last M+W values,
	// whose overlapping windows share their values (so M can be about
	// W+1 times larger in the same bytes).
	Recent
	// Novelty keeps windows far from each other (a greedy online k-centre
	// cover, Charikar et al. 1997): when full, a new window whose distance
	// to its nearest kept window exceeds the smallest such distance among
	// the kept ones replaces that most redundant one; otherwise it is
	// dropped.
	Novelty
)

func (p Policy) String() string {
	switch p {
	case Reservoir:
		return "reservoir"
	case Recent:
		return "recent"
	case Novelty:
		return "novelty"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// OnlineKNN is KNN learned from the stream with a bounded memory: the
// memory holds at most M windows of the last W values with the value that
// followed each, chosen by Policy from the train rows and then the test
// rows as they arrive (a row joins the memory only once it is in the
// past), stored as Bits-bit codes. The forecast is the mean of the values
// that followed the K kept windows nearest (Euclidean) to the latest W.
//
// Codes: Bits 8 or 16 quantise each value against the series' range as
// seen so far (a centre fixed at the first value and a power-of-two step;
// when a value falls outside, the step doubles until it fits and every
// stored code is rescaled), Bits 32 stores float32. M 0 keeps every window
// (float32 only: a reference without a bound, not a budget).
type OnlineKNN struct {
	W, K   int
	M      int
	Policy Policy
	Bits   int
	Seed   uint64 // Reservoir's random stream (a PCG seeded with Seed, 1)
	// Frozen stops the memory at the end of the train split: the test
	// rows are queries only. Not online (the product has no train split);
	// a reference that separates the bound from the learning. Not with
	// Recent.
	Frozen bool
}

func (o OnlineKNN) Lags() int { return o.W }

func (o OnlineKNN) String() string {
	if o.M == 0 {
		return fmt.Sprintf("online kNN W=%d K=%d, every window, float32", o.W, o.K)
	}
	pol := o.Policy.String()
	if o.Policy == Reservoir {
		pol = fmt.Sprintf("reservoir (seed %d)", o.Seed)
	}
	s := fmt.Sprintf("online kNN W=%d K=%d, %s M=%d, %s (%d B)", o.W, o.K, pol, o.M, o.codeName(), o.Bytes())
	if o.Frozen {
		s = "train-split " + s[len("online "):] + ", frozen after train"
	}
	return s
}

func (o OnlineKNN) codeName() string {
	if o.Bits == 32 {
		return "float32"
	}
	return fmt.Sprintf("int%d", o.Bits)
}

// Bytes is the state the memory needs, as a product would store it: the
// codes (M windows of W+1, or the Recent ring of M+W), the last W values
// as codes (the query; Recent's ring holds them already), the quantiser
// (centre and step, 16 B), Novelty's nearest distance (float32) and
// neighbour (uint16) per window, and the count of windows seen (8 B).
func (o OnlineKNN) Bytes() int {
	b := o.Bits / 8
	n := 16 + 8
	switch o.Policy {
	case Recent:
		n += (o.M + o.W) * b
	default:
		n += o.M*(o.W+1)*b + o.W*b
	}
	if o.Policy == Novelty {
		n += o.M * 6
	}
	return n
}

func (o OnlineKNN) validate() error {
	if o.W < 1 || o.K < 1 {
		return fmt.Errorf("%v: W and K must be positive", o)
	}
	if o.Bits != 8 && o.Bits != 16 && o.Bits != 32 {
		return fmt.Errorf("online kNN: %d bits, want 8, 16 or 32", o.Bits)
	}
	if o.M < 0 || (o.M == 0 && (o.Bits != 32 || o.Policy != Reservoir)) {
		return fmt.Errorf("online kNN: M %d: want M > 0, or 0 (every window) with float32", o.M)
	}
	if o.Frozen && (o.Policy == Recent || o.M == 0) {
		return fmt.Errorf("online kNN: Frozen needs a bounded Reservoir or Novelty memory")
	}
	if o.Policy == Novelty && o.M > math.MaxUint16 {
		return fmt.Errorf("online kNN: novelty M %d exceeds %d", o.M, math.MaxUint16)
	}
	return nil
}

// Stream is an OnlineKNN's state on one series: Observe each value as it
// arrives, Predict the next. Not safe for concurrent use.
type Stream interface {
	Observe(v float64)
	Predict() float64
	Len() int // windows in memory
}

// NewStream returns an empty memory for o; an error when o is invalid.
func (o OnlineKNN) NewStream() (Stream, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	switch o.Bits {
	case 8:
		return newStream[int8](o, math.MaxInt8), nil
	case 16:
		return newStream[int16](o, math.MaxInt16), nil
	}
	return newStream[float32](o, 0), nil
}

// Fit streams train through a new memory and returns a forecaster that
// observes the rows of past it has not seen yet (all but those before the
// latest call) and then forecasts the next. It is stateful: call it with
// successive prefixes of one test split, as Errors does. It panics on an
// invalid o (a programmer's error in the study's list).
func (o OnlineKNN) Fit(train []float64) func([]float64) float64 {
	s, err := o.NewStream()
	if err != nil {
		panic(err)
	}
	for _, v := range train {
		s.Observe(v)
	}
	if o.Frozen {
		s.(interface{ freeze() }).freeze()
	}
	seen := 0
	return func(past []float64) float64 {
		if len(past) < seen {
			panic(fmt.Sprintf("online kNN: past of %d rows after %d: not a prefix of the same split", len(past), seen))
		}
		for _, v := range past[seen:] {
			s.Observe(v)
		}
		seen = len(past)
		return s.Predict()
	}
}

// Budget is the state, in bytes, an OnlineKNN may take in the study: the
// product's per-series 4 KiB less room for the rest of the model.
const Budget = 3584

// Budgeted are the bounded online kNN settings the study scores and
// cross-validates, each within Budget: W 10 K 5 (the offline kNN's best)
// under each policy at the largest M its codes allow, and at smaller M
// whose search costs less (Recent 160; Reservoir 48, about what the
// model's spare 0.7 µs a sample pays for in BenchmarkOnlineKNNStep).
// Reservoir's seed is 1; Seeds gives others.
func Budgeted() []OnlineKNN {
	return []OnlineKNN{
		{W: 10, K: 5, M: 160, Policy: Reservoir, Bits: 16, Seed: 1},
		{W: 10, K: 5, M: 300, Policy: Reservoir, Bits: 8, Seed: 1},
		{W: 10, K: 5, M: 80, Policy: Reservoir, Bits: 32, Seed: 1},
		{W: 10, K: 5, M: 48, Policy: Reservoir, Bits: 16, Seed: 1},
		{W: 10, K: 5, M: 125, Policy: Novelty, Bits: 16},
		{W: 10, K: 5, M: 160, Policy: Recent, Bits: 16},
		{W: 10, K: 5, M: 1750, Policy: Recent, Bits: 16},
	}
}

// Seeds returns o with each seed in 2..n: the spread of a reservoir's
// random sample.
func Seeds(o OnlineKNN, n int) []OnlineKNN {
	var out []OnlineKNN
	for seed := uint64(2); seed <= uint64(n); seed++ {
		o.Seed = seed
		out = append(out, o)
	}
	return out
}
