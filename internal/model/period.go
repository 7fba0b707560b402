package model

import "math"

// Learned rhythm (issue 18 item 3). The value is averaged over blocks of
// periodBlock seconds (or one sample, at slower cadences); the last
// periodRing block means are kept, with the running autocorrelation of the
// centred block means at lags 1..periodLags blocks. A series has a
// dominant period of L blocks when the autocorrelation at L is a local
// peak of at least periodMinACF: a rhythm from about ten minutes (an
// orbit) to a few hours. The daily rhythm, beyond the ring, is the
// time-of-day profile's (see season.rhythmic). Only a series with a
// period is judged by it: each block is compared with the block one
// period earlier (a seasonal naive forecast, Hyndman and Athanasopoulos,
// Forecasting: Principles and Practice, 3rd ed., section 5.2), and the
// smoothed error goes through the same online pruning rule as the
// predictor's (judge).
const (
	periodBlock  = 300.0 // seconds per block
	periodRing   = 128   // block means kept
	periodLags   = 64    // longest period, in blocks
	periodMinACF = 0.5   // autocorrelation a dominant period needs
	periodMinLag = 2     // shortest period, in blocks
	periodHold   = 3     // periods a period must hold before it judges
	periodEvery  = 4     // blocks between searches for the period
)

type period struct {
	ring [periodRing]float32
	acf  [periodLags + 1]float32 // EWMA of centred products at lag 0..periodLags
	mean float32                 // EWMA of the block means
	sum  float64                 // values in the current block
	cnt  uint32                  // samples in the current block
	pos  uint8                   // next ring slot
	full uint8                   // blocks in the ring, up to periodRing
	per  uint8                   // dominant period in blocks (0: none)
	held uint8                   // blocks the period has held, saturating
	err  pruner
}

// pruneMin is the fewest errors a pruner averages before it judges.
const pruneMin = 30

// pruner is telemanom's pruning rule run online (see judge).
type pruner struct {
	es  float64 // EWMA of |error|: the smoothed error (telemanom's e_s)
	mae float64 // long-run mean |error|, the unit es is judged in
	max float64 // largest es/mae seen, decaying slowly
	n   uint32  // errors seen, saturating
}

// update adds u (in normalised units) and, when it completes a block of
// k samples, learns the block and returns 1 if the block broke the
// series' period by the pruning rule. a, aMax and prune are as for the
// predictor; warm enables judging.
func (p *period) update(u float64, k uint32, a, aMax, prune float64, warm bool) float64 {
	p.sum += u
	p.cnt++
	if p.cnt < k {
		return 0
	}
	b := p.sum / float64(p.cnt)
	p.sum, p.cnt = 0, 0
	out := 0.0
	if p.per > 0 && int(p.held) >= periodHold*int(p.per) {
		prev := float64(p.ring[(int(p.pos)+periodRing-int(p.per))%periodRing])
		out = p.err.judge(math.Abs(b-prev), a, aMax, prune, warm)
	}
	// Centred autocorrelation against the running mean of the blocks.
	n := float64(p.full) + 1
	am := max(aMax, 1/n)
	p.mean += float32(am * (b - float64(p.mean)))
	x := b - float64(p.mean)
	for l := 0; l <= periodLags && l <= int(p.full); l++ {
		y := x
		if l > 0 {
			y = float64(p.ring[(int(p.pos)+periodRing-l)%periodRing]) - float64(p.mean)
		}
		p.acf[l] += float32(am * (x*y - float64(p.acf[l])))
	}
	p.ring[p.pos] = float32(b)
	p.pos = uint8((int(p.pos) + 1) % periodRing)
	if p.full < periodRing {
		p.full++
	}
	// The period moves slowly: it is searched every periodEvery blocks.
	// One that moves by more than a tenth is another rhythm: its errors
	// are judged once it has held for periodHold periods.
	if p.pos%periodEvery != 0 {
		if p.per > 0 {
			p.held = min(p.held+1, math.MaxUint8)
		}
		return out
	}
	if per := p.dominant(); per == 0 || p.per == 0 || absDiff(per, p.per) > max(1, p.per/10) {
		p.per, p.held = per, 0
	} else {
		p.per = per
		p.held = min(p.held+1, math.MaxUint8)
	}
	return out
}

// dominant returns the period, in blocks: the shortest lag whose
// autocorrelation is a local peak of at least periodMinACF and within a
// tenth of the highest such peak (a period's multiples peak about as high
// as the period itself), once the ring holds two such periods; 0 when
// there is none.
func (p *period) dominant() uint8 {
	v := float64(p.acf[0])
	if !(v > 0) {
		return 0
	}
	peak := func(l int) bool { return p.acf[l] >= p.acf[l-1] && p.acf[l] >= p.acf[l+1] }
	top := float32(periodMinACF * v)
	found := false
	for l := periodMinLag; l < periodLags && 2*l <= int(p.full); l++ {
		if p.acf[l] >= top && peak(l) {
			top, found = p.acf[l], true
		}
	}
	if !found {
		return 0
	}
	for l := periodMinLag; l < periodLags && 2*l <= int(p.full); l++ {
		if p.acf[l] >= 0.9*top && peak(l) {
			return uint8(l)
		}
	}
	return 0
}

// judge folds the error e into the smoothed error (EWMA weight a) and
// returns 1 when the smoothed error, in units of the long-run mean error,
// exceeds the largest such value seen before by more than the share
// prune, else 0. This is telemanom's pruning rule (Hundman et al. 2018:
// an anomalous sequence's maximum smoothed error must exceed the largest
// normal one by a minimum percentage) run online: the largest earlier
// value, which decays with weight aMax per sample so one old glitch does
// not mask the series for good, stands for the errors below the
// threshold. Non-parametric: no distribution is assumed for the errors,
// whose tails are heavy. The long-run mean error (weight aMax, or 1/n
// over the first n samples) makes the rule indifferent to the slow drift
// of the normalisation while a series settles.
//
// While the series is not warm the maximum does not learn.
func (r *pruner) judge(e, a, aMax, prune float64, warm bool) float64 {
	if r.n < math.MaxUint32 {
		r.n++
	}
	r.es += max(a, 1/float64(r.n)) * (e - r.es)
	r.mae += max(aMax, 1/float64(r.n)) * (e - r.mae)
	if !warm || r.n < pruneMin || !(r.mae > 0) {
		return 0
	}
	x := r.es / r.mae
	out := 0.0
	if r.max > 0 && x > (1+prune)*r.max {
		out = 1
	}
	r.max = max(x, r.max*(1-aMax))
	return out
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}
