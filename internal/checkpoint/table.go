package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Table is what TablePart needs of a per-series table; *store.Table[V]
// satisfies it.
type Table[V any] interface {
	Shards() int
	RangeShard(i int, fn func(id string, lastSeen time.Time, v *V) bool) bool
	Restore(id string, v V, lastSeen time.Time)
}

// Codec encodes one table value. Append must not keep v; Decode gets the
// series id (a value may need it, e.g. to resolve its limits) and must
// reject, never panic on, bytes Append did not produce.
//
// Copy, if set, copies a value under its shard's lock for Append to encode
// after the lock is released, so it must leave dst sharing nothing a
// scorer may change with src (a value holding part of its state through a
// pointer copies what it points to). dst is zero or a value an earlier
// Copy filled, whose memory it may reuse. Nil copies the value itself
// (*dst = *src), which suits values holding no pointers to mutable state.
type Codec[V any] struct {
	Append func(b []byte, v *V) ([]byte, error)
	Decode func(id string, b []byte) (V, error)
	Copy   func(dst, src *V)
}

// TablePart checkpoints a Table: one record per series, keyed by its id,
// holding its last-use time (so idle expiry keeps counting across the
// restart) and its encoded value.
type TablePart[V any] struct {
	t     Table[V]
	codec Codec[V]
}

var _ Part = (*TablePart[int])(nil)

// NewTablePart returns a Part over t.
func NewTablePart[V any](t Table[V], c Codec[V]) *TablePart[V] {
	return &TablePart[V]{t: t, codec: c}
}

type item[V any] struct {
	id   string
	seen time.Time
	v    V
}

// SaveState walks the table one shard at a time: it copies the shard's
// entries under its lock (Codec.Copy), then encodes and writes them after
// the lock is released, so a scorer waits at most for one shard's copy.
func (p *TablePart[V]) SaveState(w *Writer) error {
	var batch []item[V]
	var buf []byte
	for i := range p.t.Shards() {
		batch = batch[:0]
		p.t.RangeShard(i, func(id string, seen time.Time, v *V) bool {
			if n := len(batch); n < cap(batch) {
				batch = batch[:n+1] // keeps what an earlier Copy filled
			} else {
				batch = append(batch, item[V]{})
			}
			it := &batch[len(batch)-1]
			it.id, it.seen = id, seen
			if p.codec.Copy != nil {
				p.codec.Copy(&it.v, v)
			} else {
				it.v = *v
			}
			return true
		})
		for j := range batch {
			it := &batch[j]
			var err error
			buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(it.seen.UnixNano()))
			if buf, err = p.codec.Append(buf, &it.v); err != nil {
				return fmt.Errorf("encode series %q: %w", it.id, err)
			}
			if err := w.Record(it.id, buf); err != nil {
				return err
			}
		}
		// Drop references to what the table may evict; copies made by
		// Codec.Copy are the part's own, kept for the next shard's.
		if p.codec.Copy == nil {
			clear(batch)
		} else {
			for j := range batch {
				batch[j].id = ""
			}
		}
	}
	return nil
}

// LoadState decodes every record to check it, and the install function
// decodes them again into the table: twice the CPU of one pass (about a
// microsecond a series) instead of holding every decoded value in memory
// beside the file.
func (p *TablePart[V]) LoadState(s *Section) (func(), error) {
	err := s.Each(func(id string, b []byte) error {
		_, _, err := p.decode(id, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return func() {
		_ = s.Each(func(id string, b []byte) error {
			if v, seen, err := p.decode(id, b); err == nil {
				p.t.Restore(id, v, seen)
			}
			return nil
		})
	}, nil
}

// TableRecordBytes returns the length of a TablePart record whose value
// Codec.Append writes in valueBytes: the last-use time, then the value.
func TableRecordBytes(valueBytes int) int { return 8 + valueBytes }

var errShortRecord = errors.New("record shorter than its timestamp")

// Decode decodes one record SaveState wrote for id (e.g. handed over by
// an Index) into its value and last-use time.
func (p *TablePart[V]) Decode(id string, b []byte) (V, time.Time, error) { return p.decode(id, b) }

func (p *TablePart[V]) decode(id string, b []byte) (V, time.Time, error) {
	if len(b) < 8 {
		var zero V
		return zero, time.Time{}, fmt.Errorf("series %q: %w", id, errShortRecord)
	}
	seen := time.Unix(0, int64(binary.LittleEndian.Uint64(b)))
	v, err := p.codec.Decode(id, b[8:])
	if err != nil {
		return v, seen, fmt.Errorf("series %q: %w", id, err)
	}
	return v, seen, nil
}
