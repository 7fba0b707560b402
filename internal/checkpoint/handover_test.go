package checkpoint

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeSnap saves records as section "a" of dir/file under sig.
func writeSnap(t *testing.T, dir, file, sig string, recs map[string]string) {
	t.Helper()
	k, err := New(dir, file, sig)
	if err != nil {
		t.Fatal(err)
	}
	k.Add("a", &mapPart{m: recs})
	if err := k.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestIndexAdoptsForeignSeriesOnce: the index holds the records of other
// replicas' snapshots with the right signature (never its own file),
// hands each out once, counts refused files once, follows a rewritten
// file and forgets a removed one.
func TestIndexAdoptsForeignSeriesOnce(t *testing.T) {
	dir := t.TempDir()
	writeSnap(t, dir, "a.snap", "sig", map[string]string{"x": "1", "y": "2"})
	writeSnap(t, dir, "other.snap", "another configuration", map[string]string{"q": "1"})
	writeSnap(t, dir, "self.snap", "sig", map[string]string{"z": "1"})
	if err := os.WriteFile(filepath.Join(dir, "bad.snap"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	x := NewIndex(dir, "self.snap", "sig", "a", 0, 100)
	x.Scan(t.Context())
	x.Scan(t.Context())
	st := x.Stats()
	if st.Indexed != 2 || st.Errors[ReasonCorrupt] != 1 || st.Errors[ReasonIncompatible] != 1 {
		t.Fatalf("after two scans: %+v, want 2 indexed, one corrupt and one incompatible file", st)
	}
	if v, ok := adopt(x, "x"); !ok || string(v) != "1" {
		t.Fatalf("Adopt(x) = %q, %v; want 1, true", v, ok)
	}
	for _, id := range []string{"x", "z", "q"} {
		if _, ok := adopt(x, id); ok {
			t.Errorf("Adopt(%s) succeeded; want it refused (adopted already, own file, other signature)", id)
		}
	}
	x.Scan(t.Context())
	if _, ok := adopt(x, "x"); ok {
		t.Error("an unchanged file was indexed again")
	}
	later := time.Now().Add(time.Minute)
	writeSnap(t, dir, "a.snap", "sig", map[string]string{"w": "3"})
	if err := os.Chtimes(filepath.Join(dir, "a.snap"), later, later); err != nil {
		t.Fatal(err)
	}
	x.Scan(t.Context())
	if _, ok := adopt(x, "y"); ok {
		t.Error("a record of the file's previous version was kept")
	}
	if st := x.Stats(); st.Indexed != 1 || st.Adopted != 1 {
		t.Errorf("after the rewrite: %+v, want w indexed, 1 adopted", st)
	}
	if err := os.Remove(filepath.Join(dir, "a.snap")); err != nil {
		t.Fatal(err)
	}
	x.Scan(t.Context())
	if st := x.Stats(); st.Indexed != 0 {
		t.Errorf("after the file was removed: %d indexed, want 0", st.Indexed)
	}
}

// TestIndexLimitAndExpiry: the index holds at most limit records, and a
// snapshot or a killed writer's temporary file older than the ttl is
// deleted, not indexed.
func TestIndexLimitAndExpiry(t *testing.T) {
	dir := t.TempDir()
	writeSnap(t, dir, "a.snap", "sig", map[string]string{"x": "1", "y": "2", "z": "3"})
	x := NewIndex(dir, "self.snap", "sig", "a", time.Hour, 2)
	x.Scan(t.Context())
	if st := x.Stats(); st.Indexed != 2 {
		t.Errorf("indexed %d records with a limit of 2", st.Indexed)
	}
	old := time.Now().Add(-2 * time.Hour)
	writeSnap(t, dir, "b.snap", "sig", map[string]string{"v": "1"})
	if err := os.Chtimes(filepath.Join(dir, "b.snap"), old, old); err != nil {
		t.Fatal(err)
	}
	x.Scan(t.Context())
	if _, err := os.Stat(filepath.Join(dir, "b.snap")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a snapshot past the ttl is still there: %v", err)
	}
	if _, ok := adopt(x, "v"); ok {
		t.Error("a record of an expired snapshot was adopted")
	}
	tmp := filepath.Join(dir, "c.snap.tmp-123")
	if err := os.WriteFile(tmp, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	x.Scan(t.Context())
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a temporary file past the ttl is still there: %v", err)
	}
}

// adopt takes id's record from x, installing it as is.
func adopt(x *Index, id string) ([]byte, bool) {
	var got []byte
	ok := x.Adopt(id, func(b []byte) error { got = b; return nil })
	return got, ok
}

// lastUsed is a TablePart-shaped record: its last use (Unix ns, little
// endian) and a payload.
func lastUsed(t time.Time, payload string) string {
	return string(binary.LittleEndian.AppendUint64(nil, uint64(t.UnixNano()))) + payload
}

// TestIndexBoundsClocksAhead: a record whose last use lies ahead of the
// clock (a writer whose clock ran fast) counts as used when indexed, and a
// file whose modification time lies ahead counts as written when first
// seen, so neither outlives the ttl by as much as it lies ahead.
func TestIndexBoundsClocksAhead(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	clock := &stepClock{now: now} // step 0: the test sets it
	writeSnap(t, dir, "a.snap", "sig", map[string]string{
		"ahead": lastUsed(now.Add(10*time.Hour), "x"),
		"fresh": lastUsed(now, "y"),
	})
	x := NewIndex(dir, "self.snap", "sig", "a", time.Hour, 100, WithClock(clock))
	x.Scan(t.Context())
	if st := x.Stats(); st.Indexed != 2 {
		t.Fatalf("indexed %d records, want 2", st.Indexed)
	}
	clock.now = now.Add(2 * time.Hour)
	for _, id := range []string{"ahead", "fresh"} {
		if v, ok := adopt(x, id); ok {
			t.Errorf("Adopt(%s) = %q two hours after it was indexed with a ttl of 1h; want it expired", id, v)
		}
	}

	future := now.Add(10 * time.Hour)
	writeSnap(t, dir, "b.snap", "sig", map[string]string{"v": lastUsed(now.Add(2*time.Hour), "z")})
	if err := os.Chtimes(filepath.Join(dir, "b.snap"), future, future); err != nil {
		t.Fatal(err)
	}
	x.Scan(t.Context())
	if _, err := os.Stat(filepath.Join(dir, "b.snap")); err != nil {
		t.Fatalf("a snapshot seen for the first time was deleted: %v", err)
	}
	clock.now = now.Add(4 * time.Hour)
	x.Scan(t.Context())
	if _, err := os.Stat(filepath.Join(dir, "b.snap")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a snapshot stamped 6h ahead is still there 2h after it was first seen (ttl 1h): %v", err)
	}
}
