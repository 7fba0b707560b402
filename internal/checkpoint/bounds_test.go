package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestMaxFileBytesIsExact: a snapshot holding as many records as the
// bounds allow, each key and value as long as allowed, is exactly
// MaxFileBytes long, so the cap refuses nothing a writer can produce.
func TestMaxFileBytesIsExact(t *testing.T) {
	b := Bounds{Records: 300, Key: 200, Value: 130}
	m := map[string]string{}
	for i := range b.Records {
		id := fmt.Sprintf("%03d", i) + strings.Repeat("k", b.Key-3)
		m[id] = strings.Repeat("v", b.Value)
	}
	dir := t.TempDir()
	writeSnap(t, dir, "a.snap", "sig", m)
	info, err := os.Stat(filepath.Join(dir, "a.snap"))
	if err != nil {
		t.Fatal(err)
	}
	if want := MaxFileBytes("sig", map[string]Bounds{"a": b}); info.Size() != want {
		t.Errorf("full snapshot is %d bytes, MaxFileBytes = %d; want equal", info.Size(), want)
	}
	if MaxFileBytes("sig", map[string]Bounds{"a": {Records: 1}}) != 0 {
		t.Error("MaxFileBytes with an unbounded value is not 0 (unbounded)")
	}
}

// loadErr restores dir/test.snap with opts and returns the refusal reason.
func loadReason(t *testing.T, dir string, opts ...Option) string {
	t.Helper()
	k, err := New(dir, "test.snap", "sig", opts...)
	if err != nil {
		t.Fatal(err)
	}
	k.Add("a", &mapPart{})
	k.Restore(t.Context())
	for r, n := range k.Stats().RestoreErrors {
		if n > 0 {
			return r
		}
	}
	return ""
}

// TestRestoreBounds: a snapshot over its file size, record count, key or
// value bound is refused as oversized; within them it loads.
func TestRestoreBounds(t *testing.T) {
	fits := Bounds{Records: 2, Key: 2, Value: 3}
	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{"within", []Option{WithBounds("a", fits), WithMaxBytes(MaxFileBytes("sig", map[string]Bounds{"a": fits}))}, ""},
		{"within sections", []Option{WithSections(map[string]Bounds{"a": fits})}, ""},
		{"file", []Option{WithMaxBytes(20)}, ReasonOversized},
		{"records", []Option{WithBounds("a", Bounds{Records: 1})}, ReasonOversized},
		{"key", []Option{WithBounds("a", Bounds{Key: 1})}, ReasonOversized},
		{"value", []Option{WithBounds("a", Bounds{Value: 2})}, ReasonOversized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			k, err := New(dir, "test.snap", "sig")
			if err != nil {
				t.Fatal(err)
			}
			k.Add("a", &mapPart{m: map[string]string{"x1": "abc", "x2": "de"}})
			if err := k.Save(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := loadReason(t, dir, tc.opts...); got != tc.want {
				t.Errorf("refused as %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRestoreNotRegular: a snapshot that is a FIFO or a symbolic link is
// refused without blocking or following it, and set aside.
func TestRestoreNotRegular(t *testing.T) {
	for name, mk := range map[string]func(string) error{
		"fifo":    func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"symlink": func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := mk(filepath.Join(dir, "test.snap")); err != nil {
				t.Skip(err)
			}
			if got := loadReason(t, dir); got != ReasonNotRegular {
				t.Errorf("refused as %q, want %q", got, ReasonNotRegular)
			}
			if _, err := os.Lstat(filepath.Join(dir, "test.snap")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the file was not set aside: %v", err)
			}
		})
	}
}

// TestIndexRefusesUnread: a 600 MB file of zeros and a 1 GB file with a
// snapshot's header (both sparse) are refused by header and by size
// without being read; the first is set aside and not read again, the
// second left for a replica whose --max-series allows it.
func TestIndexRefusesUnread(t *testing.T) {
	dir := t.TempDir()
	if err := os.Truncate(mustCreate(t, filepath.Join(dir, "zeros.snap")), 600<<20); err != nil {
		t.Fatal(err)
	}
	writeSnap(t, dir, "huge.snap", "sig", map[string]string{"x": "1"})
	if err := os.Truncate(filepath.Join(dir, "huge.snap"), 1<<30); err != nil {
		t.Fatal(err)
	}
	b := Bounds{Records: 10, Key: 10, Value: 10}
	opts := []Option{WithSections(map[string]Bounds{"a": b})}
	x := NewIndex(dir, "self.snap", "sig", "a", 0, 10, opts...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	x.Scan(t.Context())
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("scan allocated %d KB, want the files refused unread", alloc>>10)
	}
	st := x.Stats()
	if st.Errors[ReasonCorrupt] != 1 || st.Errors[ReasonOversized] != 1 || st.SetAside != 1 {
		t.Errorf("stats %+v, want one corrupt file set aside and one oversized one left (another --max-series may take it)", st)
	}
	y := NewIndex(dir, "other.snap", "sig", "a", 0, 10, opts...)
	y.Scan(t.Context())
	if st := y.Stats(); st.Errors[ReasonCorrupt] != 0 {
		t.Errorf("a second index read the set-aside file again: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "huge.snap")); err != nil {
		t.Errorf("the oversized file was not left in place: %v", err)
	}
}

func mustCreate(t *testing.T, path string) string {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestIndexRecordChecks: records of the wrong length (Bounds.Fixed) take no
// slot, the byte bound holds, and a record install refuses is counted as
// an error, never as adopted.
func TestIndexRecordChecks(t *testing.T) {
	dir := t.TempDir()
	writeSnap(t, dir, "a.snap", "sig", map[string]string{"j1": "123", "j2": "1234567"})
	writeSnap(t, dir, "b.snap", "sig", map[string]string{"r1": "12345678", "r2": "12345678", "r3": "12345678"})
	x := NewIndex(dir, "self.snap", "sig", "a", 0, 3, WithBounds("a", Bounds{Value: 8, Fixed: true}), WithIndexBytes(20))
	x.Scan(t.Context())
	st := x.Stats()
	if st.Indexed != 2 || st.Bytes != 20 || st.Errors[ReasonInvalid] != 2 {
		t.Fatalf("stats %+v, want 2 records (20 bytes: the byte bound) indexed and the 2 of the wrong length refused", st)
	}
	refused := errors.New("does not decode")
	var id string
	for _, r := range []string{"r1", "r2", "r3"} {
		if _, ok := x.recs[r]; ok {
			id = r
		}
	}
	if x.Adopt(id, func([]byte) error { return refused }) {
		t.Error("Adopt reported a refused record as adopted")
	}
	if st := x.Stats(); st.Adopted != 0 || st.Errors[ReasonInvalid] != 3 || st.Indexed != 1 || st.Bytes != 10 {
		t.Errorf("after a refused adoption: %+v, want 0 adopted, 3 invalid, 1 left (10 bytes)", st)
	}
}

// TestWithSections: WithSections bounds each section and the file by
// MaxFileBytes of the signature New or NewIndex gets, as WithBounds plus
// WithMaxBytes(MaxFileBytes(...)) do; an explicit WithMaxBytes wins.
func TestWithSections(t *testing.T) {
	sections := map[string]Bounds{"a": {Records: 2, Key: 2, Value: 3}, "b": {Records: 1, Key: 4, Value: 5}}
	want := limits{maxBytes: MaxFileBytes("sig", sections), bounds: sections}
	if got := newOptions("sig", []Option{WithSections(sections)}).limits; !reflect.DeepEqual(got, want) {
		t.Errorf("WithSections(%v) under \"sig\" = %+v, want %+v", sections, got, want)
	}
	if got := newOptions("sig", []Option{WithSections(sections), WithMaxBytes(7)}).limits.maxBytes; got != 7 {
		t.Errorf("WithSections then WithMaxBytes(7): maxBytes %d, want 7", got)
	}
	if want.maxBytes <= MaxFileBytes("sig", nil) {
		t.Errorf("MaxFileBytes of the sections = %d, no more than an empty file's", want.maxBytes)
	}
	x := NewIndex(t.TempDir(), "self.snap", "signature", "a", 0, 10, WithSections(sections))
	if got, want := x.lim.maxBytes, MaxFileBytes("signature", sections); got != want {
		t.Errorf("NewIndex with WithSections: file bound %d, want %d (its own signature's)", got, want)
	}
}
