package checkpoint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// KeepSetAside is how many set-aside snapshot files (name.<reason>-<UTC
// time>) a directory keeps: each set-aside deletes the oldest beyond it, so
// a process that restarts in a loop on a bad snapshot (or handover
// replicas refusing file after file) cannot fill the disk with copies. The
// file just set aside is always kept; the others are ranked by the time in
// their names, newest first.
const KeepSetAside = 3

// asideTime is the layout of the time in a set-aside file's name.
const asideTime = "20060102T150405.000000000Z"

// asideName matches a set-aside file's name: any snapshot name, a
// reason, the time. A file of any other name is never deleted.
var asideName = regexp.MustCompile(`\.(` + strings.Join(Reasons, "|") + `)-(\d{8}T\d{6}\.\d{9}Z)$`)

// setAside renames a refused snapshot to path.<reason>-<UTC time>, so it
// is kept for inspection and the next checkpoint does not overwrite it,
// then deletes the directory's oldest set-aside files beyond KeepSetAside
// (pruneAside). It returns the new name, or "" and an error when the
// rename failed.
func setAside(ctx context.Context, logger *slog.Logger, path, reason string, now time.Time) (string, error) {
	aside := fmt.Sprintf("%s.%s-%s", path, reason, now.UTC().Format(asideTime))
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("set snapshot aside: %w", err)
	}
	err := syncDir(filepath.Dir(path))
	pruneAside(ctx, logger, filepath.Dir(path), filepath.Base(aside), KeepSetAside)
	return aside, err
}

// pruneAside deletes the set-aside files of dir beyond the newest keep,
// never the one named just (the file just set aside: a clock that ran
// ahead earlier must not make it the first deleted), and logs each
// deletion at INFO. Directories are left alone. Failures are logged at
// WARN: a file another replica deleted first is no failure.
func pruneAside(ctx context.Context, logger *slog.Logger, dir, just string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		logger.WarnContext(ctx, "cannot list set-aside snapshots to delete old ones", "dir", dir, "err", err)
		return
	}
	type aside struct{ name, at string }
	var old []aside
	for _, e := range entries {
		m := asideName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() || e.Name() == just {
			continue
		}
		old = append(old, aside{e.Name(), m[2]})
	}
	if len(old) < keep {
		return
	}
	// Newest first; the fixed-width layout sorts as text.
	slices.SortFunc(old, func(a, b aside) int { return cmp.Or(cmp.Compare(b.at, a.at), cmp.Compare(b.name, a.name)) })
	for _, a := range old[keep-1:] {
		err := os.Remove(filepath.Join(dir, a.name))
		switch {
		case err == nil:
			logger.InfoContext(ctx, "deleted an old set-aside snapshot", "file", a.name, "dir", dir, "kept", keep)
		case !errors.Is(err, fs.ErrNotExist):
			logger.WarnContext(ctx, "cannot delete an old set-aside snapshot", "file", a.name, "dir", dir, "err", err)
		}
	}
}
