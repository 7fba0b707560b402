package stats

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The dwell rule: a stay is out of character once it is DwellMargin times
// the longest earlier stay in its place (a state of a few-valued series,
// a side of an Excursion's band), and at least DwellMargin times DwellMin
// samples, so a place seen briefly only does not flag every slightly
// longer stay; and only once the place has seen DwellVisits finished
// stays: the chance that the next of n exchangeable stays is the longest
// is 1/(n+1), so one record among the first few is expected. The model's
// state machine judges its dwells by it, and Excursion judges stays
// beyond a band.
const (
	DwellMargin = 1.5
	DwellMin    = 16
	DwellVisits = 10
)

// Excursion applies the dwell rule to a continuous series read at three
// levels: beyond a band above its slow mean, inside it, and below it. A
// stay beyond the band longer than any before on its side is out of
// character, however ordinary the values themselves: a channel whose
// pulses beyond the band last a few samples and that now stays there
// (SMAP E-2's hump, MSL M-4's low stretch) sets no record and its fast
// mean has been as far out before. The stay must reach DwellMargin times
// the longest earlier one on its side (and at least DwellMin samples),
// once that side has seen DwellVisits finished stays. It is judged as it
// happens, so a stay is flagged once, on the sample that makes it out of
// character. The caller chooses the band and its units (ExcursionSide);
// the zero value has seen no stay.
type Excursion struct {
	Run    uint32    // samples in the current stay (0: inside the band)
	Record [2]uint32 // longest finished stay below [0] and above [1] the band
	Visits [2]uint16 // finished stays below and above, saturating
	Side   int8      // -1 below the band, 1 above, 0 inside
}

// ExcursionBytes is the length of an encoded Excursion.
const ExcursionBytes = 4 + 2*4 + 2*2 + 1

// Update takes the side of the band the sample lies on (-1, 0 or 1, see
// ExcursionSide) and reports whether this is the one sample at which the
// current stay becomes out of character.
func (e *Excursion) Update(side int8) bool {
	if side != e.Side {
		if e.Side != 0 {
			i := (e.Side + 1) / 2
			e.Record[i] = max(e.Record[i], e.Run)
			if e.Visits[i] < math.MaxUint16 {
				e.Visits[i]++
			}
		}
		e.Side, e.Run = side, 0
	}
	if side == 0 {
		return false
	}
	if e.Run < math.MaxUint32 {
		e.Run++
	}
	i := (side + 1) / 2
	return e.Visits[i] >= DwellVisits && e.Run == uint32(math.Ceil(DwellMargin*float64(max(e.Record[i], DwellMin))))
}

// ExcursionSide is the side of the band [-band, band] the normalised value
// u (a distance from the slow mean in the caller's deviations) lies on; a
// band of 0 or less (the rule turned off) puts every value inside.
func ExcursionSide(u, band float64) int8 {
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

// AppendBinary appends e to b as ExcursionBytes little-endian bytes, for
// the detectors' snapshot codecs.
func (e *Excursion) AppendBinary(b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, e.Run)
	b = le.AppendUint32(b, e.Record[0])
	b = le.AppendUint32(b, e.Record[1])
	b = le.AppendUint16(b, e.Visits[0])
	b = le.AppendUint16(b, e.Visits[1])
	return append(b, byte(e.Side))
}

// DecodeBinary reads what AppendBinary wrote from the first ExcursionBytes
// of b (which must hold them). It does not judge the result: the caller
// checks it against its own sample count with Check.
func (e *Excursion) DecodeBinary(b []byte) {
	le := binary.LittleEndian
	e.Run = le.Uint32(b)
	e.Record[0], e.Record[1] = le.Uint32(b[4:]), le.Uint32(b[8:])
	e.Visits[0], e.Visits[1] = le.Uint16(b[12:]), le.Uint16(b[14:])
	e.Side = int8(b[16])
}

// Check rejects an Excursion Update could not have produced from n
// samples: a side other than -1, 0 or 1, a run that disagrees with it,
// runs or counts beyond the samples seen, and a longest stay without a
// finished one (or the other way round).
func (e *Excursion) Check(n uint32) error {
	switch {
	case e.Side < -1 || e.Side > 1 || (e.Side == 0) != (e.Run == 0):
		return fmt.Errorf("excursion side %d with a run of %d", e.Side, e.Run)
	case e.Run > n:
		return fmt.Errorf("excursion of %d of %d samples", e.Run, n)
	}
	for i := range e.Record {
		if e.Record[i] > n || uint32(e.Visits[i]) > n || (e.Record[i] == 0) != (e.Visits[i] == 0) {
			return fmt.Errorf("longest excursion %d after %d of %d samples", e.Record[i], e.Visits[i], n)
		}
	}
	return nil
}
