package model

import (
	"math"

	"github.com/astraguard/astraguard/internal/stats"
)

// seasonSmoothHalfLife is the half-life, in samples, of the EWMA the
// time-of-day profile learns and scores instead of raw values. A profile
// of raw values reads every isolated spike in bursty count data as a
// broken daily pattern; a short average keeps real pattern breaks, which
// last, and drops most one-sample spikes, which the shift feature still
// sees. At slow cadences the average is shortened to lag at most one
// hourly bin (see weights).
const seasonSmoothHalfLife = 8

var aSmooth = stats.Alpha(seasonSmoothHalfLife)

// seasonHistory is the span of data, in seconds, before the profile
// reports at all: two days, so every hour has been seen on two days and a
// daily pattern, not one day's accident, is what the profile holds.
const seasonHistory = 2 * 86400.0

// season is a time-of-day profile: per UTC hour, an EWMA of the value and of
// its absolute deviation. Telemetry and the NAB series are often diurnal;
// for a series that is not, the feature is just another slow z-score and the
// likelihood stage discounts it.
type season struct {
	mean, dev [24]float32
	n         [24]uint8 // samples learned per hour, saturating
}

// seasonMin is the number of samples an hour bin learns before it reports.
// A bin's first deviations are measured against a floor-sized spread, and
// the huge ratios that produced used to inflate the feature's long-run
// variance in the likelihood, hiding real seasonal breaks for days.
const seasonMin = 6

const nanosPerHour = 3600 * 1e9

func hourOf(unixNanos int64) int {
	h := (unixNanos / nanosPerHour) % 24
	if h < 0 {
		h += 24
	}
	return int(h)
}

// update returns |v - profile| / deviation for the hour (0 unless report
// is set and the hour has learned seasonMin samples) and then learns v
// with EWMA weight a. floor keeps the deviation from collapsing on flat
// stretches.
func (s *season) update(h int, v, floor, a float64, report bool) float64 {
	if s.n[h] == 0 {
		s.n[h] = 1
		s.mean[h], s.dev[h] = float32(v), float32(floor)
		return 0
	}
	m, d := float64(s.mean[h]), float64(s.dev[h])
	if d < floor {
		d = floor
	}
	r := math.Abs(v-m) / d
	if s.n[h] <= seasonMin || !report {
		r = 0
	}
	if s.n[h] < math.MaxUint8 {
		s.n[h]++
	}
	s.mean[h] = float32(m + a*(v-m))
	s.dev[h] = float32(d + a*(math.Abs(v-m)-d))
	return r
}

// rhythmic reports whether the profile holds a daily rhythm: every hour has
// learned seasonMin samples and the hourly means spread by at least gate
// times the hours' average deviation (the share of the variation the time
// of day explains, as a signal-to-noise ratio). A series without a daily
// period gets no seasonal mechanism at all: its hourly means all sit near
// the overall mean, and a profile of noise only adds false alarms.
func (s *season) rhythmic(gate float64) bool {
	var sum, sum2, dev float64
	for h := range 24 {
		if s.n[h] <= seasonMin {
			return false
		}
		m := float64(s.mean[h])
		sum += m
		sum2 += m * m
		dev += float64(s.dev[h])
	}
	mean := sum / 24
	spread := math.Sqrt(max(sum2/24-mean*mean, 0))
	return spread > gate*dev/24
}

// profile returns the hour's learned mean and deviation, and whether the
// hour has learned enough to report.
func (s *season) profile(h int) (mean, dev float64, ok bool) {
	return float64(s.mean[h]), float64(s.dev[h]), s.n[h] > seasonMin
}

// novelty is novelty against the whole history, as CAD OSE does: values
// are discretised over the running [min, max] range into 8 levels and bit
// sets record which 1-, 2- and 3-step transitions were ever seen.
//
// The 3-step set is folded to half its 8^4 bits (see threeBit), the bulk
// of the per-series state otherwise: 256 bytes instead of 512.
type novelty struct {
	one   [1]uint64              // 8*8 bits
	two   [8]uint64              // 8^3 bits
	three [threeBits / 64]uint64 // 8^4 transitions folded into threeBits
	hist  uint16                 // last three levels, 3 bits each (newest lowest)
}

// threeBits is the size of the folded 3-step set.
const threeBits = 2048

// threeFold is the pattern threeBit XORs into a transition whose oldest
// level is in the upper half: the top bit of each of the four levels.
const threeFold = 1<<11 | 1<<8 | 1<<5 | 1<<2

// threeBit maps a 3-step transition i (four 3-bit levels, oldest highest)
// to its bit in the folded set: exactly two transitions share each bit,
// i and i with every level moved by half the range (i ^ threeFold). For
// the usual series, which moves between neighbouring levels, the partner
// of a common transition is a jump it rarely makes, so folding seldom
// hides a new transition. On the cross-validation (nabeval -cv) the
// folded set scored as the full one did to 0.1 (model 80.3, flags 81.4).
func threeBit(i uint) uint {
	if i&(1<<11) != 0 {
		i ^= threeFold
	}
	return i
}

// novelty weights of an unseen 1-, 2- and 3-step transition: the shorter
// the unseen context, the stronger the evidence of a new behaviour.
const (
	w1, w2, w3 = 0.5, 0.3, 0.2
)

// update records level cur and returns the weighted share of unseen
// transitions in [0, 1].
func (g *novelty) update(cur uint8) float64 {
	var u1, u2, u3 float64
	h := uint(g.hist)
	c := uint(cur)
	i1 := (h&7)<<3 | c
	i2 := (h&63)<<3 | c
	i3 := threeBit((h&511)<<3 | c)
	if g.one[0]&(1<<i1) == 0 {
		u1 = 1
		g.one[0] |= 1 << i1
	}
	if g.two[i2/64]&(1<<(i2%64)) == 0 {
		u2 = 1
		g.two[i2/64] |= 1 << (i2 % 64)
	}
	if g.three[i3/64]&(1<<(i3%64)) == 0 {
		u3 = 1
		g.three[i3/64] |= 1 << (i3 % 64)
	}
	g.hist = uint16((h<<3 | c) & 511)
	return w1*u1 + w2*u2 + w3*u3
}

// levelOf discretises v into 8 levels over the range seen so far, which
// holds v. The builtin min is math.Min inlined: they differ only on
// min(-Inf, NaN), and v >= lo keeps -Inf out.
func levelOf(v, lo, hi float64) uint8 {
	r := hi - lo
	if !(r > 0) {
		return 0
	}
	return uint8(min(7, math.Floor(8*(v-lo)/r)))
}

// recordMargin is how far, as a share of the range seen so far, a value
// must pass the all-time minimum or maximum to count as a new extreme.
// Small trends set new records by tiny steps and stay quiet, while a
// breakout clears the old range by a visible share of it.
const recordMargin = 0.02

// record returns 1 when v leaves the range [lo, hi] of everything seen so
// far by more than recordMargin of its width and by more than step, else
// 0: a value never seen before in either direction (a new peak of
// traffic, a temperature beyond any reading so far) is evidence no
// per-sample z-score weighs fairly once the slow statistics have absorbed
// earlier excursions.
func record(v, lo, hi, step float64) float64 {
	r := hi - lo
	if !(r > 0) {
		return 0
	}
	if m := max(recordMargin*r, step); v > hi+m || v < lo-m {
		return 1
	}
	return 0
}

// anchor updates a carried record level c (see Config.RecordDrift) with
// v and returns it with the samples since the last new extreme: a new
// extreme (isNew) keeps the further of c and v (sign 1 for highs, -1 for
// lows) when the last one came within the slow half-life (a the slow
// mean's per-sample weight), else restarts c at v, since a slope fitted
// over a span without records no longer says where the series' extreme
// would have drifted.
func anchor(isNew bool, v, c float64, since uint32, a, sign float64) (float64, uint32) {
	if !isNew {
		if since < math.MaxUint32-1 { // under n, which saturates at MaxUint32
			since++
		}
		return c, since
	}
	if float64(since)*a > math.Ln2 || sign*(v-c) > 0 {
		return v, 0
	}
	return c, 0
}

// trending reports whether a series that has set records new highs (or
// new lows) in n samples sets them more often than an exchangeable series
// would by more than z standard deviations. In n exchangeable samples the
// count of records has mean H(n) = 1 + 1/2 + ... + 1/n and variance
// H(n) - H2(n), H2 the sum of 1/i^2 (Foster and Stuart, "Distribution-free
// tests in time-series based on the breaking of records", JRSS B 1954);
// both are taken from their asymptotic forms, exact to within 1/n^2. A
// trending series' new extremes are its trend, not news.
func trending(records, n uint32, z float64) bool {
	if n < 2 {
		return false
	}
	fn := float64(n)
	h := math.Log(fn) + eulerGamma + 0.5/fn
	v := max(h-(math.Pi*math.Pi/6-1/fn), 0)
	return float64(records) > h+z*math.Sqrt(v)
}

// eulerGamma is the Euler-Mascheroni constant.
const eulerGamma = 0.5772156649015329
