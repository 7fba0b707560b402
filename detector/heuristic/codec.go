package heuristic

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"github.com/astraguard/astraguard/internal/stats"
)

// codecVersion is the first byte of every encoded State; Signature includes
// it, so a snapshot of another layout is set aside rather than misread.
const codecVersion = 2

// EncodedBytes is the length of one encoded State: a version byte, n and
// quiet, five float64 statistics and the shift score's likelihood.
const EncodedBytes = 1 + 4 + 4 + 5*8 + stats.LikelihoodBytes

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
	for _, f := range [...]float64{st.mean, st.fast, st.dev, st.prev, st.quantum} {
		b = le.AppendUint64(b, math.Float64bits(f))
	}
	return st.lk.AppendBinary(b), nil
}

// UnmarshalBinary replaces st's statistics with ones encoded by
// AppendBinary and keeps st's limit, so the caller starts from
// Heuristic.NewState(id). Input of the wrong length or version, or holding
// statistics Score never produces (NaN or infinite), returns an error
// wrapping ErrBadState and leaves st unchanged; it never panics. So does
// finite input Score never produces (see check): a checksum proves that a
// snapshot's bytes were written, not that they are right.
func (st *State) UnmarshalBinary(b []byte) error {
	if len(b) != EncodedBytes {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadState, len(b), EncodedBytes)
	}
	if b[0] != codecVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, b[0], codecVersion)
	}
	le := binary.LittleEndian
	ns := State{limit: st.limit, n: le.Uint32(b[1:]), quiet: int32(le.Uint32(b[5:]))}
	fs := [...]*float64{&ns.mean, &ns.fast, &ns.dev, &ns.prev, &ns.quantum}
	for i, f := range fs {
		*f = math.Float64frombits(le.Uint64(b[9+8*i:]))
	}
	if !ns.lk.DecodeBinary(b[9+8*len(fs):]) {
		return fmt.Errorf("%w: non-finite likelihood", ErrBadState)
	}
	if err := ns.check(); err != nil {
		return err
	}
	*st = ns
	return nil
}

// check refuses statistics Score never produces: non-finite values,
// averages beyond maxMagnitude, a negative deviation or quiet period, a
// likelihood with more updates than samples, and a first sample whose
// statistics differ from it. Such a state could score NaN or never flag.
func (st *State) check() error {
	if st.quiet < 0 {
		return fmt.Errorf("%w: negative quiet period %d", ErrBadState, st.quiet)
	}
	if st.n == 0 {
		if *st != (State{limit: st.limit}) {
			return fmt.Errorf("%w: statistics without samples", ErrBadState)
		}
		return nil
	}
	for _, f := range [...]float64{st.mean, st.fast, st.prev} {
		if !(math.Abs(f) <= maxMagnitude) {
			return fmt.Errorf("%w: statistic %v beyond ±%v", ErrBadState, f, maxMagnitude)
		}
	}
	// The deviation averages distances between two values within
	// ±maxMagnitude; the quantum is +Inf until a second distinct value.
	if !(st.dev >= 0 && st.dev <= 2*maxMagnitude) {
		return fmt.Errorf("%w: deviation %v", ErrBadState, st.dev)
	}
	if !(st.quantum > 0) || st.quantum > 2*maxMagnitude && !math.IsInf(st.quantum, 1) {
		return fmt.Errorf("%w: quantum %v", ErrBadState, st.quantum)
	}
	if c := st.lk.Count(); c > st.n || c == st.n && st.n != math.MaxUint32 {
		return fmt.Errorf("%w: %d likelihood updates for %d samples", ErrBadState, st.lk.Count(), st.n)
	}
	if st.n == 1 && (st.fast != st.mean || st.prev != st.mean || st.dev != 0 || !math.IsInf(st.quantum, 1)) {
		return fmt.Errorf("%w: first sample's statistics differ", ErrBadState)
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
	fmt.Fprintf(s, "heuristic codec %d; learn %d; quiet %d; minStd %v; maxMagnitude %v; alphas", codecVersion, h.learn, h.quiet, minStd, maxMagnitude)
	for _, f := range [...]float64{h.alpha, h.aFast, h.aShort, h.aLong, h.flag} {
		fmt.Fprintf(s, " %x", math.Float64bits(f))
	}
	return hex.EncodeToString(s.Sum(nil)[:12])
}
