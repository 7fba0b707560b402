// Package checkpoint keeps a process's learned state across restarts: one
// snapshot file per process, written atomically every interval and on
// graceful shutdown, loaded once at start.
//
// File format (version 1). Little-endian throughout:
//
//	header   "AGSNAP\r\n", uint32 format version, int64 creation time
//	         (unix ns), uvarint length + configuration signature
//	frames   'S' uvarint length + section name, then its records:
//	         'R' uvarint length + key, uvarint length + value
//	end      'E'
//	trailer  uint32 CRC-32C (Castagnoli) of every byte before it
//
// Each component (series table, breakers) owns one section and the
// encoding of its values; the service and the model server share the
// format. A snapshot is accepted only when its magic, version, structure,
// checksum and signature (which the caller derives from every setting that
// gives the state its meaning) all match, and only when every Part decodes
// all of its section: nothing is installed otherwise. A snapshot that
// fails is renamed aside (file.<reason>-<time>), logged at WARN and counted
// in Stats.RestoreErrors by reason; the process starts fresh and its next
// checkpoint writes a new file. A directory keeps at most KeepSetAside
// set-aside files: each set-aside deletes the oldest beyond it (never the
// file just set aside), so a restart loop cannot fill the disk.
//
// Reading is bounded before it starts: only a regular file is opened (no
// symbolic link is followed, a FIFO never blocks the open), the header is
// checked before the rest is read, a file larger than WithMaxBytes (or
// than its WithSections allow, MaxFileBytes) is refused unread, and each
// section's records are held to their Bounds. A refused file costs at most its header in memory.
//
// Writes go to a temporary file in the same directory, are fsynced, renamed
// over the snapshot and the directory fsynced, so a crash or kill -9 at any
// point leaves either the previous snapshot or the new one, never a mix.
// Stale temporary files are removed at the next start. Only one process
// may use one snapshot file; replicas need a directory each.
//
// What it does not do: it keeps no history of snapshots, does not compress,
// and does not lock the directory.
//
// Concurrency: a Keeper's methods are safe for concurrent use; saves are
// serialised. Parts are called from the saving goroutine and must do their
// own locking.
//
// This package has no API stability promise.
package checkpoint
