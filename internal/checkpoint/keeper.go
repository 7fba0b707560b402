package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Part is one component's share of a snapshot: a section it writes and
// reads back. Parts are called from the saving (or loading) goroutine and
// do their own locking.
type Part interface {
	// SaveState writes the component's records with w.Record. It should
	// hold its own locks only briefly: scoring goes on meanwhile.
	SaveState(w *Writer) error
	// LoadState decodes every record of s (nil when the snapshot has no
	// such section) and returns a function that installs them. It must
	// not change the component itself: when any Part fails, no install
	// function runs, so a snapshot is never half-loaded.
	LoadState(s *Section) (install func(), err error)
}

// Clock is the source of wall time for snapshot and set-aside names.
type Clock interface{ Now() time.Time }

type sysClock struct{}

func (sysClock) Now() time.Time { return time.Now() }

// Option configures a Keeper or an Index.
type Option func(*options)

// options are what the Options set, shared by New and NewIndex.
type options struct {
	logger *slog.Logger
	clock  Clock
	limits limits
	// indexBytes and later only configure NewIndex.
	indexBytes int64
	later      func(a, b []byte) bool
	// sized says the file holds only the bounded sections (WithSections),
	// so its size bound follows from theirs.
	sized bool
}

// newOptions applies opts over the defaults, for snapshots signed sig.
func newOptions(sig string, opts []Option) options {
	o := options{logger: slog.New(slog.DiscardHandler), clock: sysClock{}}
	for _, f := range opts {
		f(&o)
	}
	if o.sized && o.limits.maxBytes == 0 {
		o.limits.maxBytes = MaxFileBytes(sig, o.limits.bounds)
	}
	return o
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock sets the clock (default: time.Now).
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithMaxBytes refuses a snapshot file larger than n bytes without reading
// it (ReasonOversized); see MaxFileBytes. Default 0: no bound.
func WithMaxBytes(n int64) Option { return func(o *options) { o.limits.maxBytes = n } }

// WithIndexBytes bounds the bytes of keys and values an Index holds (NewIndex
// only). Default 0: the record limit times the section's key and value
// bounds when both are set, else no byte bound.
func WithIndexBytes(n int64) Option { return func(o *options) { o.indexBytes = n } }

// WithLater sets how an Index chooses between two files' records of one
// series (NewIndex only): later(a, b) reports whether record a holds the
// later state, and a record replaces one already indexed only when it
// does. Default: the record whose last use (TablePart's time, each
// writer's wall clock) is later; an owner that can order its states
// without a clock should set it, since a replica whose clock ran fast
// would otherwise win with an old state.
func WithLater(later func(a, b []byte) bool) Option { return func(o *options) { o.later = later } }

// WithBounds bounds the records of section; a snapshot that breaks them is
// refused (ReasonOversized). Default: only keys are bounded, at 1 MiB.
func WithBounds(section string, b Bounds) Option {
	return func(o *options) {
		if o.limits.bounds == nil {
			o.limits.bounds = map[string]Bounds{}
		}
		o.limits.bounds[section] = b
	}
}

// WithSections says a snapshot holds only these sections: each is bounded
// as by WithBounds, and the file by the size they allow under the
// signature given to New or NewIndex (MaxFileBytes), so a larger file is
// refused unread (ReasonOversized). One list serves both checks; an
// explicit WithMaxBytes wins.
func WithSections(sections map[string]Bounds) Option {
	return func(o *options) {
		for name, b := range sections {
			WithBounds(name, b)(o)
		}
		o.sized = true
	}
}

// Keeper saves and restores one snapshot file made of named Parts.
type Keeper struct {
	path  string
	sig   string
	parts []namedPart
	options

	saveMu sync.Mutex // serialises saves

	mu    sync.Mutex
	stats Stats // guarded by mu
}

type namedPart struct {
	name string
	p    Part
}

// Stats is what the Keeper has done so far.
type Stats struct {
	LastSave      time.Time     // end of the last successful save; zero before the first
	LastDuration  time.Duration // how long the last successful save took
	LastBytes     int64         // size of the last successful snapshot
	Saves         uint64        // successful saves
	SaveErrors    uint64        // failed saves (the previous snapshot stays)
	Restored      int           // records installed by Restore
	RestoreErrors map[string]uint64
}

// New returns a Keeper for dir/file, creating dir if needed. sig is the
// configuration signature a snapshot must carry to be loaded (see
// Signature); parts are saved and loaded in order, each as the section of
// its name.
func New(dir, file, sig string, opts ...Option) (*Keeper, error) {
	if dir == "" || file == "" || filepath.Base(file) != file {
		return nil, fmt.Errorf("new checkpoint keeper: bad location %q, %q", dir, file)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	k := &Keeper{path: filepath.Join(dir, file), sig: sig, options: newOptions(sig, opts)}
	k.stats.RestoreErrors = make(map[string]uint64, len(Reasons))
	for _, r := range Reasons {
		k.stats.RestoreErrors[r] = 0
	}
	return k, nil
}

// Add registers a part under a section name. Call it before Restore.
func (k *Keeper) Add(name string, p Part) {
	k.parts = append(k.parts, namedPart{name, p})
}

// Path returns the snapshot file's path.
func (k *Keeper) Path() string { return k.path }

// Stats returns a copy of the counters.
func (k *Keeper) Stats() Stats {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.stats
	s.RestoreErrors = make(map[string]uint64, len(k.stats.RestoreErrors))
	for r, n := range k.stats.RestoreErrors {
		s.RestoreErrors[r] = n
	}
	return s
}

// RemoveTemps deletes the temporary files a save of this Keeper's file
// left when its process was killed mid-write. Restore does it too.
func (k *Keeper) RemoveTemps() error { return removeTemps(k.path) }

// Restore loads the snapshot into the parts. A missing snapshot is a fresh
// start. A snapshot that cannot be used is set aside, logged at WARN and
// counted, and the parts stay empty: Restore never fails the process, so
// it returns nothing.
func (k *Keeper) Restore(ctx context.Context) {
	if err := removeTemps(k.path); err != nil {
		k.logger.WarnContext(ctx, "cannot remove a stale temporary snapshot", "err", err)
	}
	start := time.Now()
	snap, err := readSnapshot(k.path, k.sig, k.limits)
	if errors.Is(err, fs.ErrNotExist) {
		k.logger.InfoContext(ctx, "no snapshot: starting fresh", "path", k.path)
		return
	}
	var installs []func()
	n := 0
	if err == nil {
		installs, n, err = k.decode(snap)
	}
	if err != nil {
		k.refuse(ctx, err)
		return
	}
	for _, install := range installs {
		install()
	}
	k.mu.Lock()
	k.stats.Restored = n
	k.mu.Unlock()
	k.logger.InfoContext(ctx, "state restored", "path", k.path, "records", n,
		"written_at", snap.created.UTC().Format(time.RFC3339Nano), "took", time.Since(start).String())
}

func (k *Keeper) decode(snap *snapshot) ([]func(), int, error) {
	installs := make([]func(), 0, len(k.parts))
	n := 0
	for _, np := range k.parts {
		sec := snap.sections[np.name]
		install, err := np.p.LoadState(sec)
		if err != nil {
			return nil, 0, &LoadError{Reason: ReasonInvalid, Err: fmt.Errorf("section %q: %w", np.name, err)}
		}
		installs = append(installs, install)
		n += sec.Len()
	}
	return installs, n, nil
}

// refuse sets a bad snapshot aside, logs and counts it.
func (k *Keeper) refuse(ctx context.Context, err error) {
	reason := ReasonCorrupt
	var le *LoadError
	if errors.As(err, &le) {
		reason = le.Reason
	}
	k.mu.Lock()
	k.stats.RestoreErrors[reason]++
	k.mu.Unlock()
	aside, aerr := setAside(ctx, k.logger, k.path, reason, k.clock.Now())
	if aerr != nil {
		k.logger.WarnContext(ctx, "snapshot refused and could not be set aside: starting fresh; the next checkpoint replaces it",
			"path", k.path, "reason", reason, "err", err, "rename_err", aerr)
		return
	}
	k.logger.WarnContext(ctx, "snapshot refused: starting fresh, the file is kept aside",
		"path", k.path, "reason", reason, "err", err, "kept_as", aside)
}

// Save writes a snapshot of every part, atomically replacing the last one.
// A failed save leaves the previous snapshot in place; it is counted and
// returned.
func (k *Keeper) Save(ctx context.Context) error {
	k.saveMu.Lock()
	defer k.saveMu.Unlock()
	start := time.Now()
	n, err := writeAtomic(k.path, k.sig, k.clock.Now(), func(w *Writer) error {
		for _, np := range k.parts {
			w.section(np.name)
			if err := np.p.SaveState(w); err != nil {
				return fmt.Errorf("save %s: %w", np.name, err)
			}
		}
		return nil
	})
	took := time.Since(start)
	k.mu.Lock()
	if err != nil {
		k.stats.SaveErrors++
		k.mu.Unlock()
		return err
	}
	k.stats.Saves++
	k.stats.LastSave, k.stats.LastDuration, k.stats.LastBytes = k.clock.Now(), took, n
	k.mu.Unlock()
	k.logger.DebugContext(ctx, "checkpoint written", "bytes", n, "took", took.String())
	return nil
}

// SaveFinal is the save after the owner's traffic has drained, on a
// graceful shutdown, so a restart loses nothing: it logs its outcome (a
// failure at ERROR: the previous snapshot stays) instead of returning it.
func (k *Keeper) SaveFinal(ctx context.Context) {
	start := time.Now()
	if err := k.Save(ctx); err != nil {
		k.logger.ErrorContext(ctx, "final checkpoint failed; the previous snapshot stays", "path", k.path, "err", err)
		return
	}
	k.logger.InfoContext(ctx, "final checkpoint written", "path", k.path, "took", time.Since(start).String())
}

// DefaultInterval is the interval both binaries save at unless told
// another (--checkpoint-interval): a kill -9 loses at most this much
// learning.
const DefaultInterval = 30 * time.Second

// MinInterval is the shortest interval Keeper.Run and Index.Run work at
// (both binaries' --checkpoint-interval, which also paces the handover
// scan): a save writes and fsyncs every series' state and a scan lists a
// directory, so a shorter interval only turns them into a busy loop of
// disk I/O, while a kill -9 at a 1s interval already loses at most a
// second of learning. There is no upper bound: a ticker of any positive
// duration is fine, and nothing multiplies the interval.
const MinInterval = time.Second

// ValidateInterval reports an interval Run would not keep: one shorter
// than MinInterval (zero and negative included).
func ValidateInterval(d time.Duration) error {
	if d < MinInterval {
		return fmt.Errorf("%v below the minimum %v (a shorter interval is a busy loop of disk writes)", d, MinInterval)
	}
	return nil
}

// Run saves every interval until ctx is done; a failed save is logged and
// retried at the next tick. An interval shorter than MinInterval is
// raised to it (callers validate with ValidateInterval first). It returns
// when ctx is done, without a final save: the owner saves once more after
// the streams have drained.
func (k *Keeper) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(max(interval, MinInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Save(ctx); err != nil {
				k.logger.WarnContext(ctx, "checkpoint failed; the previous snapshot stays", "path", k.path, "err", err)
			}
		}
	}
}
