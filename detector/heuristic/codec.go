package heuristic

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/astraguard/astraguard/internal/stats"
)

// codecVersion is the first byte of every encoded State; Signature includes
// it, so a snapshot of another layout is set aside rather than misread.
const codecVersion = 6

// EncodedBytes is the length of one encoded State: a version byte, n and
// quiet, six float64 statistics, the shift and step scores' likelihoods,
// the level count and the levels, the latest timestamp and the cadence
// (version 4), the flatline's current and longest runs (version 5), and
// the level score's background, cleaning variance and likelihood (version 6).
const EncodedBytes = 1 + 4 + 4 + 6*8 + 2*stats.LikelihoodBytes + 1 + maxLevels*8 + 8 + 8 + 4 + 4 + 3*8 + stats.LikelihoodBytes

// ErrBadState is returned by State.UnmarshalBinary for input that is not an
// encoded State of this version.
var ErrBadState = errors.New("invalid heuristic state")

// AppendBinary appends st's statistics to b in a fixed little-endian layout
// of EncodedBytes bytes (floats as IEEE bits, so a restored State scores
// bit for bit as the original). The limit is not encoded: it is
// configuration, resolved again by NewState, so changed limits apply to
// restored series.
func (st *State) AppendBinary(b []byte) ([]byte, error) {
	le := binary.LittleEndian
	b = append(b, codecVersion)
	b = le.AppendUint32(b, st.n)
	b = le.AppendUint32(b, uint32(st.quiet))
	for _, f := range [...]float64{st.mean, st.fast, st.dev, st.prev, st.quantum, st.step} {
		b = le.AppendUint64(b, math.Float64bits(f))
	}
	b = st.lk.AppendBinary(b)
	b = st.lkStep.AppendBinary(b)
	b = append(b, st.nLevels)
	for _, l := range st.levels {
		b = le.AppendUint64(b, math.Float64bits(l))
	}
	b = le.AppendUint64(b, uint64(st.clk.Last))
	b = le.AppendUint64(b, math.Float64bits(st.clk.Cadence))
	b = le.AppendUint32(b, st.flat.Run)
	b = le.AppendUint32(b, st.flat.Record)
	b = le.AppendUint64(b, math.Float64bits(st.lin1))
	b = le.AppendUint64(b, math.Float64bits(st.lin2))
	b = le.AppendUint64(b, math.Float64bits(st.linVar))
	return st.lkLevel.AppendBinary(b), nil
}

// EncodedSamples returns the samples the statistics took (saturating at
// 2^32-1) as AppendBinary recorded them in b, an encoded State of this
// version; false for anything else. It reads no clock's time, so it can
// order two copies of one series' state (see detector.LaterRecord).
func EncodedSamples(b []byte) (uint32, bool) {
	if len(b) != EncodedBytes || b[0] != codecVersion {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[1:]), true
}

// UnmarshalBinary replaces st's statistics with ones encoded by
// AppendBinary and keeps st's limit, so the caller starts from
// Heuristic.NewState(id). Input of the wrong length or version, or holding
// statistics Score never produces, returns an error wrapping ErrBadState
// and leaves st unchanged; it never panics. Refused: non-finite values
// (the quantum is +Inf until a second distinct value arrives), values
// beyond what Score accepts, a first sample whose statistics differ from
// it, negative deviations, a quiet period
// negative or longer than the configured one (st comes from NewState), a
// quantum that is not positive (or beyond any distance of two values), a
// level count out of range or above the
// samples seen, repeated levels, non-zero unused level slots, a last value
// that is not among the levels of a few-valued series, a level score's
// likelihood outside its clipped feature range (±levelTest), and a fresh
// state (no sample) with any statistic set. The background of the level
// score is within ±1e30 like the means, its cleaning variance within
// [0, 4e60], the square of the widest distance of two values.
func (st *State) UnmarshalBinary(b []byte) error {
	if len(b) != EncodedBytes {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadState, len(b), EncodedBytes)
	}
	if b[0] != codecVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, b[0], codecVersion)
	}
	le := binary.LittleEndian
	ns := State{limit: st.limit, maxQuiet: st.maxQuiet, n: le.Uint32(b[1:]), quiet: int32(le.Uint32(b[5:]))}
	fs := [...]*float64{&ns.mean, &ns.fast, &ns.dev, &ns.prev, &ns.quantum, &ns.step}
	off := 9
	for _, f := range fs {
		*f = math.Float64frombits(le.Uint64(b[off:]))
		off += 8
	}
	if !ns.lk.DecodeBinary(b[off:]) || !ns.lkStep.DecodeBinary(b[off+stats.LikelihoodBytes:]) {
		return fmt.Errorf("%w: non-finite likelihood", ErrBadState)
	}
	off += 2 * stats.LikelihoodBytes
	ns.nLevels = b[off]
	off++
	for i := range ns.levels {
		ns.levels[i] = math.Float64frombits(le.Uint64(b[off:]))
		off += 8
	}
	ns.clk.Last = int64(le.Uint64(b[off:]))
	ns.clk.Cadence = math.Float64frombits(le.Uint64(b[off+8:]))
	ns.flat.Run, ns.flat.Record = le.Uint32(b[off+16:]), le.Uint32(b[off+20:])
	off += 24
	ns.lin1, ns.lin2 = math.Float64frombits(le.Uint64(b[off:])), math.Float64frombits(le.Uint64(b[off+8:]))
	ns.linVar = math.Float64frombits(le.Uint64(b[off+16:]))
	if !ns.lkLevel.DecodeBinary(b[off+24:]) {
		return fmt.Errorf("%w: non-finite likelihood", ErrBadState)
	}
	if err := ns.validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	*st = ns
	return nil
}

// validate checks a decoded State is one Score can produce.
func (st *State) validate() error {
	if st.quiet < 0 || st.quiet > st.maxQuiet {
		return fmt.Errorf("quiet period %d not in [0, %d]", st.quiet, st.maxQuiet)
	}
	for _, f := range [...]float64{st.mean, st.fast, st.prev, st.lin1, st.lin2} {
		if !(math.Abs(f) <= maxMagnitude) {
			return fmt.Errorf("statistic %v not a value Score accepts", f)
		}
	}
	if !(st.linVar >= 0 && st.linVar <= maxLinVar) {
		return fmt.Errorf("cleaning variance %v not in [0, %v]", st.linVar, maxLinVar)
	}
	for _, f := range [...]float64{st.dev, st.step} {
		if !(f >= 0 && f <= 2*maxMagnitude) {
			return fmt.Errorf("deviation %v not in [0, %v]", f, 2*maxMagnitude)
		}
	}
	if st.n == 0 {
		// A fresh state: every bit after the version and n zero (a -0
		// would outlive the first sample in an unused slot).
		var raw [EncodedBytes]byte
		b, _ := st.AppendBinary(raw[:0])
		if slices.ContainsFunc(b[5:], func(c byte) bool { return c != 0 }) {
			return errors.New("statistics set before any sample")
		}
		return nil
	}
	if st.flat.Run >= st.n || st.flat.Record >= st.n {
		return fmt.Errorf("runs of repeats %d and %d after %d samples", st.flat.Run, st.flat.Record, st.n)
	}
	// An interval is at least 1 ns and at most the span of int64 ns; the
	// first sample has none.
	if c := st.clk.Cadence; c != 0 && (st.n == 1 || !(c >= 1e-9 && c <= math.MaxUint64/1e9)) {
		return fmt.Errorf("cadence %v after %d samples", c, st.n)
	}
	// Each likelihood learns one feature per sample after the first: the
	// shift and step scores' non-negative and capped, the level score's a
	// clipped, signed forecast error.
	for _, l := range [...]struct {
		name   string
		lk     *stats.Likelihood
		lo, hi float64
	}{{"shift", &st.lk, 0, stats.MaxFeature}, {"step", &st.lkStep, 0, stats.MaxFeature}, {"level", &st.lkLevel, -levelTest, levelTest}} {
		if !l.lk.Within(l.lo, l.hi) {
			return fmt.Errorf("%s likelihood statistics out of the feature range", l.name)
		}
		if c := l.lk.Count(); c != st.n-1 && !(st.n == math.MaxUint32 && c == st.n) {
			return fmt.Errorf("%s likelihood count %d after %d samples", l.name, c, st.n)
		}
	}
	// The quantum is +Inf until a second distinct value, then a distance
	// between two values within ±maxMagnitude.
	if !(st.quantum > 0) || st.quantum > 2*maxMagnitude && !math.IsInf(st.quantum, 1) {
		return fmt.Errorf("quantum %v", st.quantum)
	}
	if st.n == 1 && (st.fast != st.mean || st.prev != st.mean || st.lin1 != st.mean || st.lin2 != st.mean || st.linVar != 0 || st.dev != 0 || st.step != 0 || !math.IsInf(st.quantum, 1)) {
		return errors.New("first sample's statistics differ")
	}
	if st.nLevels == 0 || st.nLevels > maxLevels+1 || uint32(st.nLevels) > st.n {
		return fmt.Errorf("level count %d not in [1, min(%d, samples %d)]", st.nLevels, maxLevels+1, st.n)
	}
	used := int(min(st.nLevels, maxLevels))
	if st.nLevels <= maxLevels && !slices.Contains(st.levels[:used], st.prev) {
		return fmt.Errorf("last value %v is not among the %d levels", st.prev, used)
	}
	for i, l := range st.levels {
		switch {
		case i >= used && math.Float64bits(l) != 0:
			return fmt.Errorf("unused level slot %d holds %v", i, l)
		case i < used && !(math.Abs(l) <= maxMagnitude):
			return fmt.Errorf("level %v not a value Score accepts", l)
		}
		for _, o := range st.levels[:min(i, used)] {
			if i < used && o == l {
				return fmt.Errorf("level %v repeated", l)
			}
		}
	}
	return nil
}

// Signature identifies what a State means: the codec version and every
// resolved setting Score reads from its statistics. Limits are left out on
// purpose: they are applied afresh to restored series, so operators can
// change them without losing what the series learned. Stable across
// processes and releases.
func (h *Heuristic) Signature() string {
	s := sha256.New()
	fmt.Fprintf(s, "heuristic codec %d; learn %d; quiet %d; minStd %v; maxMagnitude %v; levels %d; level clean %v test %v; alphas", codecVersion, h.learn, h.quiet, minStd, maxMagnitude, h.levels, levelClean, levelTest)
	for _, f := range [...]float64{h.alpha, h.aFast, h.aShort, h.aLong, h.flag, h.aStep, h.aLevel} {
		fmt.Fprintf(s, " %x", math.Float64bits(f))
	}
	return hex.EncodeToString(s.Sum(nil)[:12])
}
