package checkpoint

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// HandoverSuffix ends every snapshot file in a handover directory.
const HandoverSuffix = ".snap"

// Index holds the records of one section of the snapshots that other
// replicas left in a shared handover directory (periodically, and when
// they drained), so the replica that now receives one of their series can
// adopt its state instead of learning it afresh. It keeps the records in
// memory, at most limit of them and at most its byte bound, and hands each
// out once. Files are read as readSnapshot reads them: regular files only,
// header first, within the size bound. A file refused for what it is
// (not a regular file, corrupt, truncated, a key or record longer than the
// codec writes) is renamed aside once, counted and logged once, so no
// replica reads it again; one refused for a signature or version of
// another configuration, or for holding more than this replica's record
// and size bounds, stays for the replicas that can use it.
type Index struct {
	dir, self, sig, section string
	ttl                     time.Duration
	limit                   int
	maxBytes                int64 // of keys and values held; 0: unbounded
	lim                     limits
	clock                   Clock
	logger                  *slog.Logger
	later                   func(a, b []byte) bool // WithLater; default: not older by newer

	mu       sync.Mutex
	recs     map[string]foreignRecord // guarded by mu
	bytes    int64                    // guarded by mu: keys and values in recs
	files    map[string]fileMark      // guarded by mu: files indexed or refused
	ahead    map[string]aheadMark     // guarded by mu: files whose time lay ahead of the clock when seen
	adopted  uint64                   // guarded by mu
	setAside uint64                   // guarded by mu
	scans    uint64                   // guarded by mu
	errs     map[string]uint64        // guarded by mu
}

type foreignRecord struct {
	file  string
	value []byte
}

func (r foreignRecord) size(id string) int64 { return int64(len(id) + len(r.value)) }

// fileMark tells a file already seen from one rewritten since.
type fileMark struct {
	mod  time.Time
	size int64
}

// aheadMark is when the index first saw a version of a file whose
// modification time lay ahead of its clock.
type aheadMark struct {
	mark  fileMark
	since time.Time
}

// IndexStats is what an Index holds and has handed out.
type IndexStats struct {
	Indexed  int               // records waiting to be adopted
	Bytes    int64             // their keys and values, in bytes
	Adopted  uint64            // records handed out by Adopt and installed
	SetAside uint64            // refused files renamed aside
	Scans    uint64            // directory scans completed
	Errors   map[string]uint64 // refused files, and refused records (ReasonInvalid), by reason (see Reasons)
}

// NewIndex returns an Index over dir for the records of section in
// snapshots carrying sig. self is this replica's own file name in dir,
// never indexed. Files older than ttl are deleted (0: kept), as are
// records whose series was last used longer ago than ttl; at most limit
// records are held. WithLogger, WithClock, WithMaxBytes, WithLater, WithBounds and
// WithSections (of section) and WithIndexBytes apply.
func NewIndex(dir, self, sig, section string, ttl time.Duration, limit int, opts ...Option) *Index {
	o := newOptions(sig, opts)
	x := &Index{dir: dir, self: self, sig: sig, section: section, ttl: ttl, limit: limit,
		maxBytes: o.indexBytes, lim: o.limits, clock: o.clock, logger: o.logger, later: o.later,
		recs: map[string]foreignRecord{}, files: map[string]fileMark{}, ahead: map[string]aheadMark{}, errs: make(map[string]uint64, len(Reasons))}
	if x.later == nil {
		// A tie goes to the record read last, as it always has.
		x.later = func(a, b []byte) bool { return !newer(b, a) }
	}
	if b := x.bounds(); x.maxBytes <= 0 && b.Key > 0 && b.Value > 0 {
		x.maxBytes = int64(limit) * int64(b.Key+b.Value)
	}
	for _, r := range Reasons {
		x.errs[r] = 0
	}
	return x
}

func (x *Index) bounds() Bounds { return x.lim.bounds[x.section] }

// Adopt hands the record saved for id by another replica to install and
// forgets it, so it is handed out once. It reports whether install took
// it: a record that install refuses is counted as an error
// (ReasonInvalid), never as adopted. A record older than the ttl is
// dropped. install runs without the Index's lock held.
func (x *Index) Adopt(id string, install func(record []byte) error) bool {
	x.mu.Lock()
	r, ok := x.recs[id]
	if ok {
		delete(x.recs, id)
		x.bytes -= r.size(id)
	}
	ok = ok && !x.expired(r.value)
	x.mu.Unlock()
	if !ok {
		return false
	}
	err := install(r.value)
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil {
		x.errs[ReasonInvalid]++
		return false
	}
	x.adopted++
	return true
}

// expired reports whether a TablePart record was last used before the ttl.
func (x *Index) expired(v []byte) bool {
	if x.ttl <= 0 || len(v) < 8 {
		return false
	}
	seen := time.Unix(0, int64(binary.LittleEndian.Uint64(v)))
	return x.clock.Now().Sub(seen) > x.ttl
}

// Stats returns a copy of the counters.
func (x *Index) Stats() IndexStats {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := IndexStats{Indexed: len(x.recs), Bytes: x.bytes, Adopted: x.adopted, SetAside: x.setAside, Scans: x.scans,
		Errors: make(map[string]uint64, len(x.errs))}
	for r, n := range x.errs {
		s.Errors[r] = n
	}
	return s
}

// Run scans the directory now and then every interval until ctx is done;
// an interval shorter than MinInterval is raised to it.
func (x *Index) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(max(interval, MinInterval))
	defer t.Stop()
	for {
		x.Scan(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Scan indexes the snapshots that appeared or changed since the last scan,
// deletes those past the ttl and forgets the records of files gone.
// Refused files are logged and counted once; see Index for which are set
// aside.
func (x *Index) Scan(ctx context.Context) {
	ents, err := os.ReadDir(x.dir)
	if err != nil {
		x.logger.WarnContext(ctx, "cannot read the handover directory", "dir", x.dir, "err", err)
		return
	}
	present, listed := map[string]bool{}, map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		// Not only regular files: anything else named *.snap is refused
		// (and set aside) by load, once, rather than skipped at every scan.
		// A temporary file a killed writer left goes at the ttl too.
		temp := strings.Contains(name, HandoverSuffix+".tmp-")
		if (!strings.HasSuffix(name, HandoverSuffix) && !temp) || name == x.self {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		listed[name] = true
		mark := fileMark{info.ModTime(), info.Size()}
		if temp {
			if x.ttl > 0 && x.age(name, mark) > x.ttl {
				_ = os.Remove(filepath.Join(x.dir, name))
			}
			continue
		}
		if x.ttl > 0 && x.age(name, mark) > x.ttl {
			if err := os.Remove(filepath.Join(x.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				x.logger.WarnContext(ctx, "cannot delete an expired handover snapshot", "file", name, "err", err)
			}
			continue
		}
		present[name] = true
		x.mu.Lock()
		seen := x.files[name] == mark
		x.mu.Unlock()
		if !seen {
			x.load(ctx, name, mark)
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.scans++
	for name := range x.files {
		if !present[name] {
			delete(x.files, name)
			x.drop(name)
		}
	}
	for name := range x.ahead {
		if !listed[name] {
			delete(x.ahead, name)
		}
	}
}

// age is how long ago the version mark of file name was written: by its
// modification time, or, for a time later than the clock (a writer whose
// clock runs ahead, or this clock stepped back), since this index first
// saw that version, so no file outlives the ttl by as much as its time
// lies ahead. Restored and handed-over clocks are bounded alike: see
// clampLastUse for the records.
func (x *Index) age(name string, mark fileMark) time.Duration {
	now := x.clock.Now()
	if !mark.mod.After(now) {
		return now.Sub(mark.mod)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	a, ok := x.ahead[name]
	if !ok || a.mark != mark {
		a = aheadMark{mark, now}
		x.ahead[name] = a
	}
	return now.Sub(a.since)
}

// load indexes one snapshot file, replacing what an earlier version of it
// left in the index.
func (x *Index) load(ctx context.Context, name string, mark fileMark) {
	path := filepath.Join(x.dir, name)
	snap, err := readSnapshot(path, x.sig, x.lim)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	x.mu.Lock()
	_, again := x.files[name]
	x.files[name] = mark
	x.drop(name)
	if err != nil {
		reason, keep := ReasonCorrupt, false
		var le *LoadError
		if errors.As(err, &le) {
			reason, keep = le.Reason, le.readerBound
		}
		x.errs[reason]++
		x.mu.Unlock()
		x.refused(ctx, name, mark, reason, err, keep, again)
		return
	}
	defer x.mu.Unlock()
	fixed := x.bounds()
	now := x.clock.Now().UnixNano()
	n, junk, full := 0, 0, false
	_ = snap.sections[x.section].Each(func(id string, v []byte) error {
		if fixed.Fixed && len(v) != fixed.Value {
			junk++ // cannot decode: it takes no slot from a record that can
			return nil
		}
		old, had := x.recs[id]
		if had && !x.later(v, old.value) {
			return nil // two replicas saved it: the later state wins (WithLater), else the first read
		}
		r := foreignRecord{file: name, value: v}
		grow := r.size(id)
		if had {
			grow -= old.size(id)
		}
		if (!had && len(x.recs) >= x.limit) || (x.maxBytes > 0 && x.bytes+grow > x.maxBytes) {
			full = true
			return nil
		}
		r.value = clampLastUse(append([]byte(nil), v...), now)
		x.recs[id] = r
		x.bytes += grow
		n++
		return nil
	})
	x.errs[ReasonInvalid] += uint64(junk)
	level := slog.LevelInfo
	if again {
		level = slog.LevelDebug // a live replica's periodic rewrite
	}
	x.logger.Log(ctx, level, "handover snapshot indexed", "file", name, "records", n, "refused_records", junk, "index_full", full)
}

// setAsideReasons are the reasons a refused handover file is renamed
// aside: what the file is, not which configuration wrote it. A file of
// another signature or format version stays for the replicas that share
// it; one that cannot be read (permissions) may be readable by others; one
// over this replica's --max-series bounds (not over the codec's) may be
// a live replica's with a larger --max-series, and is not set aside
// either (its header is all a refusal reads).
var setAsideReasons = map[string]bool{ReasonCorrupt: true, ReasonTruncated: true, ReasonOversized: true, ReasonNotRegular: true}

// refused sets a refused file aside if its reason calls for it, unless it
// changed since it was read (its owner may have rewritten it), and logs
// the refusal once.
//
// A file left in place (keep: over this replica's own bounds, or a reason
// not in setAsideReasons) is logged at WARN the first time only (again:
// seen before), not at every rewrite of a live replica's file.
func (x *Index) refused(ctx context.Context, name string, mark fileMark, reason string, err error, keep, again bool) {
	path := filepath.Join(x.dir, name)
	if keep || !setAsideReasons[reason] {
		level := slog.LevelWarn
		if again {
			level = slog.LevelDebug
		}
		x.logger.Log(ctx, level, "handover snapshot refused; left in place for replicas that can use it",
			"file", name, "reason", reason, "err", err)
		return
	}
	if info, lerr := os.Lstat(path); lerr != nil || (fileMark{info.ModTime(), info.Size()}) != mark {
		// Gone, or rewritten since: the next scan reads the new version.
		x.logger.WarnContext(ctx, "handover snapshot refused", "file", name, "reason", reason, "err", err)
		return
	}
	aside, aerr := setAside(ctx, x.logger, path, reason, x.clock.Now())
	if aside == "" {
		x.logger.WarnContext(ctx, "handover snapshot refused and could not be set aside (another replica may have); this replica does not read it again",
			"file", name, "reason", reason, "err", err, "rename_err", aerr)
		return
	}
	x.mu.Lock()
	x.setAside++
	x.mu.Unlock()
	x.logger.WarnContext(ctx, "handover snapshot refused and set aside: no replica reads it again",
		"file", name, "reason", reason, "err", err, "kept_as", filepath.Base(aside))
}

// clampLastUse takes a TablePart record last used after now (saved by a
// replica whose clock ran ahead, or before this clock stepped back) as
// last used at now, when it is indexed: its idle time counts from then,
// as the series table counts a restored one (store.Table.Sweep), or it
// would stay in the index, and past the ttl, for as long as its time lies
// ahead. v is the index's own copy.
func clampLastUse(v []byte, now int64) []byte {
	if len(v) >= 8 && int64(binary.LittleEndian.Uint64(v)) > now {
		binary.LittleEndian.PutUint64(v, uint64(now))
	}
	return v
}

// newer reports whether TablePart record a was used later than b.
func newer(a, b []byte) bool {
	if len(a) < 8 || len(b) < 8 {
		return false
	}
	return int64(binary.LittleEndian.Uint64(a)) > int64(binary.LittleEndian.Uint64(b))
}

// drop forgets the records indexed from file. x.mu must be held.
func (x *Index) drop(file string) {
	for id, r := range x.recs {
		if r.file == file {
			delete(x.recs, id)
			x.bytes -= r.size(id)
		}
	}
}
