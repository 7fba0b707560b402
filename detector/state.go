package detector

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/checkpoint"
)

// entryCodecVersion is the first byte of every encoded series entry; bump
// it when the layout below changes (StateSignature includes it).
const entryCodecVersion = 1

// entryHeader is the version byte and the watermark.
const entryHeader = 1 + 8

var errBadEntry = errors.New("invalid series entry")

// StatePart returns the checkpoint part that saves and restores every
// series' state: watermark, last use, heuristic statistics and, with the
// embedded model, its state. Records are version, watermark (int64),
// heuristic.State and model.Detector encodings in that order. Restoring
// replaces series of the same id; the remote-call claims are not saved.
func (d *Detector) StatePart() checkpoint.Part { return d.series.statePart(d.heur) }

// StateSignature identifies what StatePart's records mean: the entry
// layout, the heuristic's settings and the embedded model's (or that the
// model is remote, which keeps no state here). A snapshot with another
// signature must not be loaded.
func (d *Detector) StateSignature() string {
	return checkpoint.Signature(fmt.Sprint("detector entry ", entryCodecVersion), d.heur.Signature(), d.modelSig)
}

func (st *seriesTable[M]) statePart(h *heuristic.Heuristic) checkpoint.Part {
	return checkpoint.NewTablePart(st.t, st.codec(h))
}

// StateRecordBytes returns the length of every record StatePart writes
// (the codec is fixed-size), so a reader can bound and check records
// before decoding them.
func (d *Detector) StateRecordBytes() int {
	return checkpoint.TableRecordBytes(d.series.stateValueBytes())
}

func (st *seriesTable[M]) stateValueBytes() int {
	return entryHeader + heuristic.EncodedBytes + st.modelBytes
}

// LaterRecord reports whether StatePart record a holds a later state of
// its series than record b: one that has learnt from more samples (the
// heuristic's count, which every record carries, embedded model or
// remote). Two replicas' handover files may both hold a series that moved
// between them; a state only grows along the moves (an adopted state keeps
// its count), so the larger count is the later one whatever each
// replica's clock says, where the records' last-use times are each
// replica's wall clock and a replica whose clock ran fast would win with
// an old state. A record that does not parse is never later; equal counts
// are not later either (the copies are alike, or both saturated).
func (d *Detector) LaterRecord(a, b []byte) bool {
	na, okA := recordSamples(a)
	nb, okB := recordSamples(b)
	return okA && (!okB || na > nb)
}

// recordSamples reads the heuristic's sample count from a StatePart
// record: the TablePart last-use time, the entry header, then the
// heuristic's encoding.
func recordSamples(rec []byte) (uint32, bool) {
	off := checkpoint.TableRecordBytes(entryHeader)
	if len(rec) < off+heuristic.EncodedBytes || rec[checkpoint.TableRecordBytes(0)] != entryCodecVersion {
		return 0, false
	}
	return heuristic.EncodedSamples(rec[off : off+heuristic.EncodedBytes])
}

// adopt fills s, a series new to this table, from the state another
// replica handed over for it, if any. A record that does not decode is
// refused (the Adopter counts it), logged at WARN at most once per
// modelErrorLogInterval with the count of lines left out, and the series
// starts cold.
func (st *seriesTable[M]) adopt(d *Detector, id string, s *entry[M]) bool {
	return d.opts.adopter.Adopt(id, func(rec []byte) error {
		// Once per moved series: building the part here costs less than
		// keeping one per table in sync with it.
		e, _, err := checkpoint.NewTablePart(st.t, st.codec(d.heur)).Decode(id, rec)
		if err != nil {
			if ok, suppressed := d.adoptLog.allow(d.opts.clock.Now()); ok {
				d.opts.logger.Warn("handed-over series state refused: the series starts afresh",
					"series", id, "err", err, "suppressed_since_last", suppressed)
			}
			return err
		}
		*s = e
		return nil
	})
}

func (st *seriesTable[M]) codec(h *heuristic.Heuristic) checkpoint.Codec[entry[M]] {
	var copyEntry func(dst, src *entry[M])
	if st.copyModel != nil {
		// The model's state is held through a pointer: the checkpoint
		// encodes a copy of it, not the state a scorer goes on updating.
		copyEntry = func(dst, src *entry[M]) {
			m := dst.model
			*dst = *src
			dst.model = m
			st.copyModel(&dst.model, &src.model)
		}
	}
	return checkpoint.Codec[entry[M]]{
		Copy: copyEntry,
		Append: func(b []byte, e *entry[M]) ([]byte, error) {
			b = append(b, entryCodecVersion)
			b = binary.LittleEndian.AppendUint64(b, uint64(e.last))
			b, _ = e.heur.AppendBinary(b)
			if st.appendModel == nil {
				return b, nil
			}
			return st.appendModel(b, &e.model)
		},
		Decode: func(id string, b []byte) (entry[M], error) {
			var e entry[M]
			if len(b) < entryHeader+heuristic.EncodedBytes || b[0] != entryCodecVersion {
				return e, fmt.Errorf("%w: %d bytes", errBadEntry, len(b))
			}
			e.last = int64(binary.LittleEndian.Uint64(b[1:]))
			e.heur = h.NewState(id)
			if err := e.heur.UnmarshalBinary(b[entryHeader : entryHeader+heuristic.EncodedBytes]); err != nil {
				return e, err
			}
			rest := b[entryHeader+heuristic.EncodedBytes:]
			if st.decodeModel == nil {
				if len(rest) != 0 {
					return e, fmt.Errorf("%w: %d bytes of model state for a remote model", errBadEntry, len(rest))
				}
				return e, nil
			}
			e.model = st.newModel()
			return e, st.decodeModel(&e.model, rest)
		},
	}
}
