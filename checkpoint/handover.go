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
// replicas left in a shared handover directory when they drained, so the
// replica that now receives one of their series can adopt its state
// instead of learning it afresh. It keeps the records in memory (at most
// limit of them) and hands each out once.
type Index struct {
	dir, self, sig, section string
	ttl                     time.Duration
	limit                   int
	clock                   Clock
	logger                  *slog.Logger

	mu      sync.Mutex
	recs    map[string]foreignRecord // guarded by mu
	files   map[string]fileMark      // guarded by mu: files indexed or refused
	adopted uint64                   // guarded by mu
	errs    map[string]uint64        // guarded by mu
}

type foreignRecord struct {
	file  string
	value []byte
}

// fileMark tells a file already seen from one rewritten since.
type fileMark struct {
	mod  time.Time
	size int64
}

// IndexStats is what an Index holds and has handed out.
type IndexStats struct {
	Indexed int               // records waiting to be adopted
	Adopted uint64            // records handed out by Adopt
	Errors  map[string]uint64 // files refused, by reason (see Reasons)
}

// NewIndex returns an Index over dir for the records of section in
// snapshots carrying sig. self is this replica's own file name in dir,
// never indexed. Files older than ttl are deleted (0: kept), as are
// records whose series was last used longer ago than ttl; at most limit
// records are held. Only WithLogger and WithClock apply.
func NewIndex(dir, self, sig, section string, ttl time.Duration, limit int, opts ...Option) *Index {
	k := &Keeper{logger: slog.New(slog.DiscardHandler), clock: sysClock{}}
	for _, o := range opts {
		o(k)
	}
	x := &Index{dir: dir, self: self, sig: sig, section: section, ttl: ttl, limit: limit,
		clock: k.clock, logger: k.logger,
		recs: map[string]foreignRecord{}, files: map[string]fileMark{}, errs: make(map[string]uint64, len(Reasons))}
	for _, r := range Reasons {
		x.errs[r] = 0
	}
	return x
}

// Adopt returns the record saved for id by another replica and forgets
// it, so it is handed out once. A record older than the ttl is dropped.
func (x *Index) Adopt(id string) ([]byte, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	r, ok := x.recs[id]
	if !ok {
		return nil, false
	}
	delete(x.recs, id)
	if x.expired(r.value) {
		return nil, false
	}
	x.adopted++
	return r.value, true
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
	s := IndexStats{Indexed: len(x.recs), Adopted: x.adopted, Errors: make(map[string]uint64, len(x.errs))}
	for r, n := range x.errs {
		s.Errors[r] = n
	}
	return s
}

// Run scans the directory now and then every interval until ctx is done.
func (x *Index) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
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
// Refused files are logged and counted once, and left in place (another
// replica, of another configuration, may use them).
func (x *Index) Scan(ctx context.Context) {
	ents, err := os.ReadDir(x.dir)
	if err != nil {
		x.logger.WarnContext(ctx, "cannot read the handover directory", "dir", x.dir, "err", err)
		return
	}
	present := map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, HandoverSuffix) || name == x.self {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		if x.ttl > 0 && x.clock.Now().Sub(info.ModTime()) > x.ttl {
			if err := os.Remove(filepath.Join(x.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				x.logger.WarnContext(ctx, "cannot delete an expired handover snapshot", "file", name, "err", err)
			}
			continue
		}
		present[name] = true
		mark := fileMark{info.ModTime(), info.Size()}
		x.mu.Lock()
		seen := x.files[name] == mark
		x.mu.Unlock()
		if !seen {
			x.load(ctx, name, mark)
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for name := range x.files {
		if !present[name] {
			delete(x.files, name)
			x.drop(name)
		}
	}
}

// load indexes one snapshot file, replacing what an earlier version of it
// left in the index.
func (x *Index) load(ctx context.Context, name string, mark fileMark) {
	snap, err := readSnapshot(filepath.Join(x.dir, name), x.sig)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.files[name] = mark
	x.drop(name)
	if err != nil {
		reason := ReasonCorrupt
		var le *LoadError
		if errors.As(err, &le) {
			reason = le.Reason
		}
		x.errs[reason]++
		x.logger.WarnContext(ctx, "handover snapshot refused", "file", name, "reason", reason, "err", err)
		return
	}
	n, full := 0, false
	_ = snap.sections[x.section].Each(func(id string, v []byte) error {
		if old, ok := x.recs[id]; ok && newer(old.value, v) {
			return nil // two replicas saved it: the later use wins
		}
		if _, ok := x.recs[id]; !ok && len(x.recs) >= x.limit {
			full = true
			return nil
		}
		x.recs[id] = foreignRecord{file: name, value: append([]byte(nil), v...)}
		n++
		return nil
	})
	x.logger.InfoContext(ctx, "handover snapshot indexed", "file", name, "records", n, "index_full", full)
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
		}
	}
}
