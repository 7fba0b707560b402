package checkpoint

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// FormatVersion is the snapshot layout this package writes and reads.
const FormatVersion = 1

const (
	magic      = "AGSNAP\r\n" // \r\n catches line-ending conversions
	tagSection = 'S'
	tagRecord  = 'R'
	tagEnd     = 'E'
	// maxKey bounds a record key so a damaged length cannot ask for an
	// absurd allocation before the checksum is checked.
	maxKey = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Writer appends frames to a snapshot being written. Its methods are not
// safe for concurrent use; Parts get it one at a time.
type Writer struct {
	bw  *bufio.Writer
	crc hash.Hash32
	n   int64
	err error
	tmp []byte
}

func newWriter(w io.Writer, sig string, created time.Time) *Writer {
	cw := &Writer{crc: crc32.New(castagnoli)}
	cw.bw = bufio.NewWriterSize(io.MultiWriter(w, cw.crc), 1<<20)
	b := append([]byte(magic), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[len(magic):], FormatVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(created.UnixNano()))
	b = appendBytes(b, sig)
	cw.write(b)
	return cw
}

func appendBytes[S string | []byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.bw.Write(b)
	w.n += int64(n)
	w.err = err
}

func (w *Writer) section(name string) {
	w.tmp = appendBytes(append(w.tmp[:0], tagSection), name)
	w.write(w.tmp)
}

// Record adds one record to the current section. It returns the first
// write error, after which further records are dropped.
func (w *Writer) Record(key string, value []byte) error {
	w.tmp = appendBytes(appendBytes(append(w.tmp[:0], tagRecord), key), value)
	w.write(w.tmp)
	return w.err
}

// finish writes the end frame and the checksum and flushes.
func (w *Writer) finish() error {
	w.write([]byte{tagEnd})
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	if w.err != nil {
		return w.err
	}
	sum := binary.LittleEndian.AppendUint32(nil, w.crc.Sum32())
	w.write(sum) // through bufio so n counts it; the crc no longer matters
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	return w.err
}

// Reasons a snapshot is refused, the label values of
// astraguard_state_restore_errors_total{reason}.
const (
	ReasonUnreadable   = "unreadable"   // the file exists but cannot be read
	ReasonTruncated    = "truncated"    // the file ends before its end frame
	ReasonCorrupt      = "corrupt"      // not a snapshot, malformed, or a checksum mismatch
	ReasonIncompatible = "incompatible" // another format version or configuration signature
	ReasonInvalid      = "invalid"      // well-formed, but a Part (or an Index's record check) refused a record
	ReasonOversized    = "oversized"    // larger than its bounds allow: the file, a section's record count, a key or a value
	ReasonNotRegular   = "not_regular"  // a symbolic link, FIFO, device or directory where a snapshot file should be
)

// Reasons lists every reason, so metrics can start each at zero.
var Reasons = []string{ReasonUnreadable, ReasonTruncated, ReasonCorrupt, ReasonIncompatible, ReasonInvalid, ReasonOversized, ReasonNotRegular}

// Bounds limits one section's records, so that a damaged or hostile
// snapshot is refused (ReasonOversized) before memory is spent on it. A
// zero field is unbounded, except that a key is never longer than 1 MiB.
type Bounds struct {
	Records int  // most records in the section
	Key     int  // longest key, in bytes
	Value   int  // longest value, in bytes
	Fixed   bool // every value is exactly Value bytes: an Index skips other records without holding them
}

// MaxFileBytes returns the size of the largest snapshot under sig whose
// sections are the ones named in sections, each holding at most its
// bounds: header, frames and trailer. It returns 0 (unbounded) when a
// section has no record, key or value bound.
func MaxFileBytes(sig string, sections map[string]Bounds) int64 {
	n := int64(len(magic)+4+8) + frameBytes(len(sig)) + 1 + 4 // header, end frame, checksum
	for name, b := range sections {
		if b.Records <= 0 || b.Key <= 0 || b.Value <= 0 {
			return 0
		}
		rec := 1 + frameBytes(b.Key) + frameBytes(b.Value)
		n += 1 + frameBytes(len(name)) + int64(b.Records)*rec
	}
	return n
}

// frameBytes is the most bytes a length-prefixed field of up to n bytes takes.
func frameBytes(n int) int64 {
	return int64(len(binary.AppendUvarint(nil, uint64(n))) + n)
}

// LoadError is why a snapshot was refused.
type LoadError struct {
	Reason string // one of Reasons
	Err    error
	// readerBound: refused only for breaking the reader's record count or
	// file size bound, which derive from its own --max-series: a writer
	// configured with a larger one wrote it legitimately.
	readerBound bool
}

func (e *LoadError) Error() string { return fmt.Sprintf("snapshot %s: %v", e.Reason, e.Err) }
func (e *LoadError) Unwrap() error { return e.Err }

func refuse(reason, format string, args ...any) *LoadError {
	return &LoadError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Section is one component's records in a loaded snapshot. Its byte
// slices point into the snapshot and must not be kept past Part.Load.
type Section struct {
	recs []record
}

type record struct{ key, value []byte }

// Len returns the number of records.
func (s *Section) Len() int {
	if s == nil {
		return 0
	}
	return len(s.recs)
}

// Each calls fn for every record in file order and stops at fn's first
// error, which it returns. A nil Section (the snapshot had none) has no
// records.
func (s *Section) Each(fn func(key string, value []byte) error) error {
	if s == nil {
		return nil
	}
	for _, r := range s.recs {
		if err := fn(string(r.key), r.value); err != nil {
			return err
		}
	}
	return nil
}

// snapshot is a parsed, verified snapshot.
type snapshot struct {
	created  time.Time
	sections map[string]*Section
}

// headerBytes is the fixed part of the header: magic, version, time.
const headerBytes = len(magic) + 4 + 8

// checkHeader checks the first bytes of a file (all of them when it is
// shorter than a header) for the magic and the format version, so a file
// that is not a snapshot of this version is refused before it is read.
func checkHeader(head []byte) error {
	if len(head) < len(magic) || string(head[:len(magic)]) != magic {
		if len(head) < len(magic) && string(head) == magic[:len(head)] {
			return refuse(ReasonTruncated, "%d bytes", len(head))
		}
		return refuse(ReasonCorrupt, "not a snapshot file")
	}
	if len(head) < headerBytes {
		return refuse(ReasonTruncated, "%d bytes", len(head))
	}
	if v := binary.LittleEndian.Uint32(head[len(magic):]); v != FormatVersion {
		return refuse(ReasonIncompatible, "format version %d, want %d", v, FormatVersion)
	}
	return nil
}

// parse checks data against the format and sig. The order matters: a
// snapshot of another version may lay out its checksum differently, and a
// damaged signature should read as damage, so the version comes first and
// the signature after the checksum.
// Records beyond a section's bounds refuse the snapshot as oversized.
func parse(data []byte, sig string, bounds map[string]Bounds) (*snapshot, error) {
	if err := checkHeader(data[:min(len(data), headerBytes)]); err != nil {
		return nil, err
	}
	created := time.Unix(0, int64(binary.LittleEndian.Uint64(data[len(magic)+4:])))
	p := parser{b: data[headerBytes:], bounds: bounds}
	fileSig, err := p.bytes(len(sig) + maxKey)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{created: created, sections: map[string]*Section{}}
	if err := p.frames(snap.sections); err != nil {
		return nil, err
	}
	body := len(data) - len(p.b)
	if len(p.b) < 4 {
		return nil, refuse(ReasonTruncated, "checksum missing")
	}
	if len(p.b) > 4 {
		return nil, refuse(ReasonCorrupt, "%d bytes after the end frame", len(p.b)-4)
	}
	if want, got := binary.LittleEndian.Uint32(p.b), crc32.Checksum(data[:body], castagnoli); want != got {
		return nil, refuse(ReasonCorrupt, "checksum %08x, want %08x", got, want)
	}
	if string(fileSig) != sig {
		return nil, refuse(ReasonIncompatible, "configuration signature %q, want %q", fileSig, sig)
	}
	return snap, nil
}

type parser struct {
	b      []byte
	bounds map[string]Bounds
}

func (p *parser) bytes(max int) ([]byte, error) {
	n, k := binary.Uvarint(p.b)
	switch {
	case k == 0:
		return nil, refuse(ReasonTruncated, "file ends inside a length")
	case k < 0 || n > uint64(max):
		return nil, refuse(ReasonCorrupt, "length out of range")
	case n > uint64(len(p.b)-k):
		return nil, refuse(ReasonTruncated, "file ends inside a field of %d bytes", n)
	}
	s := p.b[k : k+int(n)]
	p.b = p.b[k+int(n):]
	return s, nil
}

// frames reads sections and records up to and including the end frame.
func (p *parser) frames(into map[string]*Section) error {
	var cur *Section
	var lim Bounds
	for {
		if len(p.b) == 0 {
			return refuse(ReasonTruncated, "file ends before the end frame")
		}
		tag := p.b[0]
		p.b = p.b[1:]
		switch tag {
		case tagEnd:
			return nil
		case tagSection:
			name, err := p.bytes(maxKey)
			if err != nil {
				return err
			}
			if into[string(name)] != nil {
				return refuse(ReasonCorrupt, "section %q twice", name)
			}
			cur = &Section{}
			into[string(name)] = cur
			lim = p.bounds[string(name)]
		case tagRecord:
			if cur == nil {
				return refuse(ReasonCorrupt, "record outside a section")
			}
			key, err := p.bytes(maxKey)
			if err != nil {
				return err
			}
			val, err := p.bytes(math.MaxInt)
			if err != nil {
				return err
			}
			if err := lim.check(len(cur.recs)+1, key, val); err != nil {
				return err
			}
			cur.recs = append(cur.recs, record{key, val})
		default:
			return refuse(ReasonCorrupt, "unknown frame %#x", tag)
		}
	}
}

// check refuses the n-th record of a section when it breaks the bounds.
func (b Bounds) check(n int, key, val []byte) error {
	switch {
	case b.Records > 0 && n > b.Records:
		e := refuse(ReasonOversized, "more than %d records in a section", b.Records)
		e.readerBound = true
		return e
	case b.Key > 0 && len(key) > b.Key:
		return refuse(ReasonOversized, "a key of %d bytes, at most %d allowed", len(key), b.Key)
	case b.Value > 0 && len(val) > b.Value:
		return refuse(ReasonOversized, "record %q of %d bytes, at most %d allowed", truncKey(key), len(val), b.Value)
	}
	return nil
}

// truncKey shortens a key for an error message.
func truncKey(k []byte) string {
	if len(k) > 64 {
		return string(k[:64]) + "..."
	}
	return string(k)
}
