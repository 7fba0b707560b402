package checkpoint

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// stepClock is a Clock that moves by step at every reading.
type stepClock struct {
	now  time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time { c.now = c.now.Add(c.step); return c.now }

// asides lists dir's set-aside files, sorted.
func asides(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if asideName.MatchString(e.Name()) && !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// TestSetAsideIsBounded: a process restarting in a loop on a bad snapshot
// keeps at most KeepSetAside set-aside files in its directory (of every
// snapshot name in it, other processes' too), the newest, always the one
// just set aside even when older names carry later times (a clock that
// ran ahead), and leaves every other file alone.
func TestSetAsideIsBounded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "test.snap")
	ahead := filepath.Join(dir, "other.snap.corrupt-29991231T000000.000000000Z")
	others := []string{"other.snap", "other.snap.tmp-1", "notes.corrupt-yesterday", "x.snap.corrupt-20260101T000000.000000000Z.bak"}
	for _, n := range append(others, filepath.Base(ahead)) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "d.snap.not_regular-20200101T000000.000000000Z"), 0o750); err != nil {
		t.Fatal(err)
	}
	clock := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: time.Second}
	var last string
	for i := range 3 * KeepSetAside {
		if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := New(dir, "test.snap", "sig", WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		k.Add("a", &mapPart{})
		k.Restore(t.Context())
		got := asides(t, dir)
		if len(got) > KeepSetAside {
			t.Fatalf("restart %d: %d set-aside files %v, want at most %d", i, len(got), got, KeepSetAside)
		}
		last = filepath.Base(path) + ".corrupt-" + clock.now.UTC().Format(asideTime)
		if !slices.Contains(got, last) {
			t.Fatalf("restart %d: the file just set aside (%s) is not among %v", i, last, got)
		}
	}
	got := asides(t, dir)
	prev := "test.snap.corrupt-" + clock.now.Add(-time.Second).UTC().Format(asideTime)
	if want := []string{filepath.Base(ahead), prev, last}; !slices.Equal(got, want) {
		t.Errorf("set-aside files left: %v, want %v", got, want)
	}
	for _, n := range append(others, "d.snap.not_regular-20200101T000000.000000000Z") {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s, not a set-aside file, was touched: %v", n, err)
		}
	}
}

// TestHandoverSetAsideIsBounded: handover files refused and set aside by
// an Index are bounded the same way in the shared directory.
func TestHandoverSetAsideIsBounded(t *testing.T) {
	dir := t.TempDir()
	clock := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: time.Second}
	x := NewIndex(dir, "self.snap", "sig", "a", 0, 100, WithClock(clock))
	for i := range 3 * KeepSetAside {
		name := filepath.Join(dir, "r"+string(rune('a'+i))+".snap")
		if err := os.WriteFile(name, []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		x.Scan(t.Context())
		if got := asides(t, dir); len(got) > KeepSetAside || len(got) == 0 {
			t.Fatalf("scan %d: set-aside files %v, want 1 to %d", i, got, KeepSetAside)
		}
	}
	if st := x.Stats(); st.SetAside != uint64(3*KeepSetAside) {
		t.Errorf("SetAside = %d, want %d", st.SetAside, 3*KeepSetAside)
	}
}
