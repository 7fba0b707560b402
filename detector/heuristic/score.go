package heuristic

import (
	"math"

	"github.com/astraguard/astraguard/internal/stats"
)

// Result is the heuristic's verdict on one sample.
type Result struct {
	// Score is in [0, 1]: 1 on a limit violation, a value beyond ±1e30
	// a value a few-valued series never took, or a record-breaking run of
	// identical values (Stuck), otherwise the largest calibrated score
	// (shift, step or level); a sample is flagged at
	// Config.Flag.
	Score float64
	// Anomaly is true on a limit violation, a statistical flag or a value
	// beyond ±1e30 (Implausible), which the statistics ignore.
	Anomaly bool
	// Learning is true while the statistical score is still learning; limit
	// violations are reported regardless.
	Learning bool
	// LimitViolation is true when the value broke the series' limit.
	LimitViolation bool
	// Stuck is true when the score is the flatline rule's: a run of
	// identical values longer than any earlier one (stats.Flatline).
	Stuck bool
	// Implausible is true for a value beyond ±1e30 (maxMagnitude, the
	// model's limit too): it is flagged with score 1 and kept out of the
	// statistics.
	Implausible bool
	// HasBand says Expected, Lower and Upper are set: the slow mean the
	// value was compared with, and bandWidth of its mean absolute
	// deviations either side. The band is for people and policies; the
	// flag comes from the calibrated shift score, not from the band.
	HasBand                bool
	Expected, Lower, Upper float64
}

// bandWidth is the band's half-width in mean absolute deviations: about
// 2.4 standard deviations of a normal series.
const bandWidth = 3

// State is one series' running statistics (248 bytes). The caller owns
// it; it is not safe for concurrent use.
type State struct {
	limit Limit
	n     uint32
	quiet int32
	// clk is the latest timestamp of a sample the statistics took and the
	// sampling interval learned from them. It is not the detector's
	// watermark, which also moves on implausible samples and is pulled
	// back after a clock step, and the heuristic runs without a detector
	// too (nabeval).
	clk     stats.Clock
	mean    float64 // slow EWMA
	fast    float64 // fast EWMA
	dev     float64 // slow EWMA of |v - mean|
	prev    float64
	quantum float64          // smallest non-zero |v - prev| seen
	step    float64          // slow EWMA of |v - prev|: the one-step predictor's usual error
	lk      stats.Likelihood // calibration of the shift score
	lkStep  stats.Likelihood // calibration of the step score
	flat    stats.Flatline   // runs of identical values (a frozen sensor)
	// lin1 and lin2 are Brown's double EWMA of the cleaned values: the
	// locally linear background of the level score (level.go).
	lin1, lin2 float64
	// linVar is the square of the scale the background's input is
	// cleaned in, widened by lasting errors (level.go); 0 until the
	// learning ends.
	linVar  float64
	lkLevel stats.Likelihood // calibration of the level score
	// levels holds the first distinct values seen, nLevels of them;
	// nLevels is maxLevels+1 once a value beyond them arrived.
	levels  [maxLevels]float64
	nLevels uint8
	// maxQuiet is the configured quiet period, set by NewState like the
	// limit: a restored quiet period may not exceed it.
	maxQuiet int32
}

// maxLevels is how many distinct values a State remembers: the most a
// series may take and still be judged on its states (Config.Levels).
const maxLevels = 8

// observe records v among st's levels. known says v is one of them;
// before is how many distinct values the series had taken before v
// (maxLevels+1: more than maxLevels).
func (st *State) observe(v float64) (known bool, before uint8) {
	before = st.nLevels
	if before > maxLevels {
		return false, before
	}
	for _, l := range st.levels[:before] {
		if l == v {
			return true, before
		}
	}
	if before < maxLevels {
		st.levels[before] = v
	}
	st.nLevels++
	return false, before
}

// Score checks v against the series' limit and updates its statistics.
// A NaN or infinite value returns a zero Result and leaves st unchanged.
func (h *Heuristic) Score(st *State, unixNanos int64, v float64) Result {
	return h.ScoreAt(st, unixNanos, v, 0)
}

// Flag returns the score at or above which Score flags (Config.Flag).
func (h *Heuristic) Flag() float64 { return h.flag }

// ScoreAt is Score with the flag level flag in (0, 1] for this sample (0:
// Config.Flag): a statistical score at or above it flags and starts the
// quiet period. The service passes a policy's threshold here, so a
// lower one flags once per event, as the default does.
func (h *Heuristic) ScoreAt(st *State, unixNanos int64, v float64, flag float64) Result {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Result{Learning: st.n < h.learn}
	}
	var res Result
	if st.limit.violated(v) {
		res = Result{Score: 1, Anomaly: true, LimitViolation: true}
	}
	if !stats.Plausible(v) {
		// Implausible for any telemetry: flag it, but keep it out of the
		// statistics, where a difference of two such values overflows to
		// ±Inf and then NaN and would silence this series for good.
		return Result{Score: 1, Anomaly: true, LimitViolation: res.LimitViolation, Implausible: true, Learning: st.n < h.learn}
	}
	if st.n < math.MaxUint32 {
		st.n++
	}
	// The statistics are per sample; the flag level is per five minutes
	// of data (below), so the cadence is learned as the model learns it.
	if st.n == 1 {
		st.clk.Start(unixNanos)
	} else {
		st.clk.Observe(unixNanos)
	}
	known, before := st.observe(v)
	if st.n == 1 {
		st.mean, st.fast, st.prev, st.quantum = v, v, v, math.Inf(1)
		st.lin1, st.lin2 = v, v
		res.Learning = h.learn > 0
		return res
	}
	step := math.Abs(v - st.prev)
	frozen := st.flat.Update(v == st.prev)
	st.quantum = stats.Quantum(st.quantum, step)
	floor := stats.Floor(st.mean, st.quantum)
	// The builtin max is math.Max inlined (they differ at most in a NaN's
	// bits, and no NaN reaches the statistics); on amd64 math.Max is a
	// call into assembly, a tenth of this function's cost.
	dev := max(st.dev, floor)
	spread := bandWidth * dev
	res.HasBand, res.Expected, res.Lower, res.Upper = true, st.mean, st.mean-spread, st.mean+spread
	// Running means until the EWMAs have enough samples.
	r := 1 / float64(st.n)
	a, af := max(h.alpha, r), max(h.aFast, r)
	st.fast += af * (v - st.fast)
	z := math.Abs(st.fast-st.mean) / dev
	zShift := st.lk.Update(z, minStd, h.aShort, h.aLong)
	// The step score: the error of the one-step (last value) predictor
	// in units of its usual size, smoothed and calibrated like the shift.
	zStep := st.lkStep.Update(step/max(st.step, floor), minStd, h.aStep, h.aLong)
	// LogTail is monotone, so the larger score is that of the larger z.
	// Its Erfc and Log are a third of this function's cost: it is
	// computed below only for a sample whose score it decides.
	zMax := max(zShift, zStep)
	zLevel := h.level(st, v, floor)
	st.mean += a * (v - st.mean)
	st.dev += a * (math.Abs(v-st.mean) - st.dev)
	st.step += a * (step - st.step)
	st.prev = v

	if st.n <= h.learn {
		res.Learning = true
		return res
	}
	if st.quiet > 0 {
		st.quiet--
		return res
	}
	var s float64
	if before <= uint8(h.levels) {
		// A series with few distinct values so far is judged on its
		// states: a value it never took flags, and moves between the
		// values it knows are routine, whatever their size.
		if !known {
			s = 1
		}
	} else if frozen {
		// A run of identical values longer than any before (the
		// model's flatline rule): a frozen sensor, on a series that
		// varies. A few-valued series repeats values by nature.
		s, res.Stuck = 1, true
	} else {
		// The tail probability is per sample; a series sampled n
		// times per five minutes takes n looks where a five-minute
		// series takes one, so it is multiplied by n (Bonferroni, as
		// the model does): false alarms per day stay put from 1 s to
		// 1 h. A series whose timestamps have not advanced is taken
		// as five-minute data.
		tests := 1.0
		if st.clk.Cadence > 0 {
			tests = stats.RefCadence / st.clk.Cadence
		}
		// The level score is two-sided (a move up or down), so its
		// tail counts twice. LogTailRate is 0 for z <= 0 and otherwise
		// falls with the corrected tail, so the score is the level
		// score's only when its z is the larger, and surely when the
		// other z is not positive or when the level's is larger by 1
		// or more (a Gaussian tail at z+1 is under a third of the tail
		// at z, whatever z >= 0); in between the tails are compared
		// (Erfc costs a fraction of LogTailRate's Log).
		z, n := zMax, tests
		if zLevel > zMax && (zMax <= 0 || zLevel >= zMax+1 || 2*math.Erfc(zLevel/math.Sqrt2) < math.Erfc(zMax/math.Sqrt2)) {
			z, n = zLevel, 2*tests
		}
		s = stats.LogTailRate(z, n)
	}
	if s >= res.Score {
		res.Score = s
	}
	if flag <= 0 {
		flag = h.flag
	}
	if s >= flag {
		res.Anomaly = true
		st.quiet = h.quiet
	}
	return res
}

// maxMagnitude bounds the values the statistics accept
// (stats.MaxMagnitude, the model's bound too), so a value is implausible
// whichever of them answers; beyond it Score flags v as Implausible.
const maxMagnitude = stats.MaxMagnitude

// minStd floors the spread of the z-score so a perfectly quiet series does
// not turn its first wiggle into an extreme tail probability.
const minStd = 0.05
