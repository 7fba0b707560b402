package model

import (
	"encoding/binary"
	"fmt"
	"math"
)

// excursion applies the state machine's dwell rule (see states) to a
// continuous series read at three levels: above the band (more than
// Config.ExcursionBand slow mean absolute deviations above the slow
// mean), inside it, and below it. A stay beyond the band longer than any
// before on its side is out of character, however ordinary the values
// themselves: a channel whose pulses beyond the band last a few samples
// and that now stays there (SMAP E-2's hump, MSL M-4's low stretch) is
// flagged although it sets no record and its fast mean has been as far
// out before. The rule and its constants are the dwell rule's: the stay
// must reach dwellMargin times the longest earlier one on its side (and
// at least dwellMin samples), once that side has seen dwellVisits
// finished excursions (the chance that the next of n exchangeable stays
// is the longest is 1/(n+1), so one record among the first few is
// expected). It is judged as it happens, so a stay is flagged once, on
// the sample that makes it out of character.
type excursion struct {
	run    uint32    // samples in the current excursion (0: inside the band)
	rec    [2]uint32 // longest finished excursion below [0] and above [1] the band
	visits [2]uint16 // finished excursions below and above, saturating
	side   int8      // -1 below the band, 1 above, 0 inside
}

// excursionBytes is the encoded size of an excursion.
const excursionBytes = 4 + 2*4 + 2*2 + 1

// update takes the side of the band the sample lies on (-1, 0 or 1) and
// reports whether it makes the current excursion out of character.
func (e *excursion) update(side int8) bool {
	if side != e.side {
		if e.side != 0 {
			i := (e.side + 1) / 2
			e.rec[i] = max(e.rec[i], e.run)
			if e.visits[i] < math.MaxUint16 {
				e.visits[i]++
			}
		}
		e.side, e.run = side, 0
	}
	if side == 0 {
		return false
	}
	if e.run < math.MaxUint32 {
		e.run++
	}
	i := (side + 1) / 2
	return e.visits[i] >= dwellVisits && e.run == uint32(math.Ceil(dwellMargin*float64(max(e.rec[i], dwellMin))))
}

// sideOf is the side of the band [-band, band] the normalised value u
// lies on; a band of 0 (the rule turned off) puts every value inside.
func sideOf(u, band float64) int8 {
	switch {
	case band <= 0:
		return 0
	case u > band:
		return 1
	case u < -band:
		return -1
	}
	return 0
}

// The excursion's part of the codec (codec version 9).
func (e *excursion) appendBinary(b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, e.run)
	b = le.AppendUint32(b, e.rec[0])
	b = le.AppendUint32(b, e.rec[1])
	b = le.AppendUint16(b, e.visits[0])
	b = le.AppendUint16(b, e.visits[1])
	return append(b, byte(e.side))
}

func (e *excursion) decode(r *reader) {
	e.run = r.u32()
	e.rec[0], e.rec[1] = r.u32(), r.u32()
	e.visits[0], e.visits[1] = r.u16(), r.u16()
	e.side = int8(r.next(1)[0])
}

// check rejects an excursion Update could not have produced after n
// samples: a side other than -1, 0 or 1, a run that disagrees with it,
// runs or counts beyond the samples seen, and a longest excursion without
// a finished one (or the other way round).
func (e *excursion) check(n uint32) error {
	switch {
	case e.side < -1 || e.side > 1 || (e.side == 0) != (e.run == 0):
		return fmt.Errorf("%w: excursion side %d with a run of %d", ErrBadState, e.side, e.run)
	case e.run > n:
		return fmt.Errorf("%w: excursion of %d of %d samples", ErrBadState, e.run, n)
	}
	for i := range e.rec {
		if e.rec[i] > n || uint32(e.visits[i]) > n || (e.rec[i] == 0) != (e.visits[i] == 0) {
			return fmt.Errorf("%w: longest excursion %d after %d of %d samples", ErrBadState, e.rec[i], e.visits[i], n)
		}
	}
	return nil
}
