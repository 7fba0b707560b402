package config

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher, once started, calls Reload when the file at Path changes or a signal arrives on
// Signals (SIGHUP, wired by main).
//
// It watches the file's directory, not the file, so an editor that writes
// a new file and renames it over the old one, and the symlink swap a
// Kubernetes ConfigMap volume makes (a new ..data link renamed over the
// old), are both seen. Once the directory has been quiet for Settle after
// an event, the file is read; a content that differs from the last one
// applied (Digest at first) is read again Settle later, and Reload runs
// with it only when both reads agree. So a file rewritten in place in
// several steps (truncated, then written) is never reloaded half-written
// or empty unless it stays so; unrelated files and repeated events cost a
// read.
type Watcher struct {
	Path    string
	Digest  [sha256.Size]byte // content already loaded (Config.Digest)
	Signals <-chan os.Signal  // may be nil
	// Reload is called on Run's goroutine with "signal" and nil data, or
	// with "file" and the file's content as read twice (at most
	// MaxFileBytes), which the reload parses instead of reading again.
	Reload func(trigger string, data []byte)
	// Settle is how long the directory must stay quiet after an event
	// before the file is read, and the interval between the two reads
	// that must agree. Default 100ms.
	Settle time.Duration
	// Errors, if set, is told about watch errors (an unreadable file is
	// left to Reload's own load to report).
	Errors func(error)
}

// Watch is a started Watcher. Its owner must call Run, which releases it.
type Watch struct {
	w    Watcher
	fw   *fsnotify.Watcher
	dirs map[string]bool
}

// Start sets the watch up, so that a change made after Start returns is
// seen by Run.
func (w Watcher) Start() (*Watch, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch config: %w", err)
	}
	dirs := map[string]bool{}
	if err := w.addDirs(fw, dirs); err != nil {
		_ = fw.Close()
		return nil, err
	}
	return &Watch{w: w, fw: fw, dirs: dirs}, nil
}

// Run calls Reload on changes and signals until ctx is done, then releases
// the watch.
func (wt *Watch) Run(ctx context.Context) error {
	w, fw, dirs := wt.w, wt.fw, wt.dirs
	defer fw.Close()
	last := w.Digest
	var pending *[sha256.Size]byte // a changed content read once, waiting for a second read
	wait := cmp.Or(w.Settle, 100*time.Millisecond)
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.Signals:
			w.Reload("signal", nil)
		case err, ok := <-fw.Errors:
			if ok && w.Errors != nil {
				w.Errors(err)
			}
		case _, ok := <-fw.Events:
			if !ok {
				return nil
			}
			settle.Reset(wait)
		case <-settle.C:
			if err := w.addDirs(fw, dirs); err != nil && w.Errors != nil {
				w.Errors(err)
			}
			data, err := ReadFile(w.Path)
			if err != nil {
				pending = nil
				continue // mid-swap or removed: the next event or a signal reloads
			}
			d := sha256.Sum256(data)
			switch {
			case bytes.Equal(d[:], last[:]):
				pending = nil
			case pending == nil || !bytes.Equal(d[:], pending[:]):
				pending = &d // changed: read again once it has stayed so for Settle
				settle.Reset(wait)
			default:
				last, pending = d, nil
				w.Reload("file", data)
			}
		}
	}
}

// addDirs watches the file's directory and the directory its symlinks
// resolve to now, so a file linked from elsewhere is seen too.
func (w Watcher) addDirs(fw *fsnotify.Watcher, dirs map[string]bool) error {
	want := []string{filepath.Dir(w.Path)}
	if real, err := filepath.EvalSymlinks(w.Path); err == nil {
		want = append(want, filepath.Dir(real))
	}
	var errs []error
	for _, d := range want {
		if dirs[d] {
			continue
		}
		if err := fw.Add(d); err != nil {
			errs = append(errs, fmt.Errorf("watch config dir %s: %w", d, err))
			continue
		}
		dirs[d] = true
	}
	return errors.Join(errs...)
}
