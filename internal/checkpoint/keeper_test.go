package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mapPart is a Part over a plain map, the test's stand-in for a series
// table.
type mapPart struct {
	m       map[string]string
	reject  string // LoadState fails on this key
	saveErr error
}

func (p *mapPart) SaveState(w *Writer) error {
	if p.saveErr != nil {
		return p.saveErr
	}
	for k, v := range p.m {
		if err := w.Record(k, []byte(v)); err != nil {
			return err
		}
	}
	return nil
}

func (p *mapPart) LoadState(s *Section) (func(), error) {
	got := map[string]string{}
	err := s.Each(func(k string, v []byte) error {
		if p.reject != "" && k == p.reject {
			return fmt.Errorf("bad record %q", k)
		}
		got[k] = string(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return func() { p.m = got }, nil
}

func newKeeper(t *testing.T, dir, sig string, parts map[string]*mapPart) *Keeper {
	t.Helper()
	k, err := New(dir, "test.snap", sig)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if p, ok := parts[name]; ok {
			k.Add(name, p)
		}
	}
	return k
}

func saved(t *testing.T, dir string) []byte {
	t.Helper()
	src := map[string]*mapPart{
		"a": {m: map[string]string{"s1": "one", "s2": strings.Repeat("x", 300), "": "empty key"}},
		"b": {m: map[string]string{"breaker": "{}"}},
	}
	k := newKeeper(t, dir, "sig1", src)
	if err := k.Save(t.Context()); err != nil {
		t.Fatalf("Save: %v", err)
	}
	data, err := os.ReadFile(k.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st := k.Stats(); st.Saves != 1 || st.LastBytes != int64(len(data)) || st.LastSave.IsZero() {
		t.Fatalf("Stats after Save = %+v, want 1 save of %d bytes", st, len(data))
	}
	return data
}

func TestSaveRestoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	saved(t, dir)
	dst := map[string]*mapPart{"a": {}, "b": {}}
	k := newKeeper(t, dir, "sig1", dst)
	k.Restore(t.Context())
	if got := dst["a"].m; len(got) != 3 || got["s1"] != "one" || got[""] != "empty key" || len(got["s2"]) != 300 {
		t.Errorf("restored a = %v", got)
	}
	if got := dst["b"].m; got["breaker"] != "{}" {
		t.Errorf("restored b = %v", got)
	}
	if st := k.Stats(); st.Restored != 4 {
		t.Errorf("Stats().Restored = %d, want 4", st.Restored)
	}
}

func TestMissingSnapshotIsAFreshStart(t *testing.T) {
	dst := map[string]*mapPart{"a": {}}
	k := newKeeper(t, t.TempDir(), "sig1", dst)
	k.Restore(t.Context())
	if dst["a"].m != nil {
		t.Error("a part was installed without a snapshot")
	}
	for r, n := range k.Stats().RestoreErrors {
		if n != 0 {
			t.Errorf("RestoreErrors[%s] = %d, want 0", r, n)
		}
	}
}

// TestRefusedSnapshots damages a good snapshot in each way the package
// promises to survive: nothing is installed, the file is set aside under
// its reason, and the reason is counted.
func TestRefusedSnapshots(t *testing.T) {
	good := saved(t, t.TempDir())
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 0x40; return b }
	otherVersion := bytes.Clone(good)
	otherVersion[len(magic)] = FormatVersion + 1
	tests := []struct {
		name   string
		data   []byte
		sig    string
		reason string
		reject string
	}{
		{"truncated half", good[:len(good)/2], "sig1", ReasonTruncated, ""},
		{"truncated checksum", good[:len(good)-2], "sig1", ReasonTruncated, ""},
		{"truncated magic", good[:3], "sig1", ReasonTruncated, ""},
		{"empty", nil, "sig1", ReasonTruncated, ""},
		{"flipped payload byte", flip(len(good) - 20), "sig1", ReasonCorrupt, ""},
		{"flipped checksum", flip(len(good) - 1), "sig1", ReasonCorrupt, ""},
		{"trailing garbage", append(bytes.Clone(good), 0), "sig1", ReasonCorrupt, ""},
		{"not a snapshot", []byte("hello, world\n"), "sig1", ReasonCorrupt, ""},
		{"other configuration", good, "sig2", ReasonIncompatible, ""},
		{"other format version", otherVersion, "sig1", ReasonIncompatible, ""},
		{"a part refuses a record", good, "sig1", ReasonInvalid, "breaker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "test.snap")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			dst := map[string]*mapPart{"a": {}, "b": {reject: tt.reject}}
			k := newKeeper(t, dir, tt.sig, dst)
			k.Restore(t.Context())
			if dst["a"].m != nil || dst["b"].m != nil {
				t.Error("a refused snapshot was (half) installed")
			}
			if n := k.Stats().RestoreErrors[tt.reason]; n != 1 {
				t.Errorf("RestoreErrors = %v, want 1 for %s", k.Stats().RestoreErrors, tt.reason)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the refused snapshot is still at %s (err %v)", path, err)
			}
			aside, _ := filepath.Glob(path + "." + tt.reason + "-*")
			if len(aside) != 1 {
				t.Fatalf("files set aside as %s: %v, want 1", tt.reason, aside)
			}
			if b, _ := os.ReadFile(aside[0]); !bytes.Equal(b, tt.data) {
				t.Error("the file set aside is not the refused snapshot")
			}
		})
	}
}

// TestEveryTruncationIsRefused cuts a snapshot at every length: each must
// be refused as truncated, never accepted or mistaken for corruption.
func TestEveryTruncationIsRefused(t *testing.T) {
	good := saved(t, t.TempDir())
	for n := range len(good) {
		_, err := parse(good[:n], "sig1", nil)
		var le *LoadError
		if !errors.As(err, &le) || le.Reason != ReasonTruncated {
			t.Fatalf("parse(first %d of %d bytes) = %v, want truncated", n, len(good), err)
		}
	}
}

// TestFailedSaveKeepsPreviousSnapshot: a save that fails part way leaves
// the last snapshot byte for byte and no temporary file.
func TestFailedSaveKeepsPreviousSnapshot(t *testing.T) {
	dir := t.TempDir()
	before := saved(t, dir)
	k := newKeeper(t, dir, "sig1", map[string]*mapPart{
		"a": {m: map[string]string{"new": "state"}},
		"b": {saveErr: errors.New("disk on fire")},
	})
	if err := k.Save(t.Context()); err == nil {
		t.Fatal("Save with a failing part succeeded")
	}
	if after, _ := os.ReadFile(k.Path()); !bytes.Equal(after, before) {
		t.Error("a failed save changed the snapshot")
	}
	if tmp, _ := filepath.Glob(k.Path() + ".tmp-*"); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	if st := k.Stats(); st.SaveErrors != 1 || st.Saves != 0 {
		t.Errorf("Stats = %+v, want 1 save error", st)
	}
}

// TestStaleTempIgnoredAndRemoved is what a kill -9 mid-save leaves: a
// temporary file beside the previous snapshot. Restore loads the previous
// snapshot and removes the temporary file.
func TestStaleTempIgnoredAndRemoved(t *testing.T) {
	dir := t.TempDir()
	good := saved(t, dir)
	tmp := filepath.Join(dir, "test.snap.tmp-123")
	if err := os.WriteFile(tmp, good[:len(good)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	dst := map[string]*mapPart{"a": {}, "b": {}}
	k := newKeeper(t, dir, "sig1", dst)
	k.Restore(t.Context())
	if dst["a"].m["s1"] != "one" {
		t.Error("the previous snapshot was not restored")
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file still there (err %v)", err)
	}
}

func TestRunSavesUntilCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) { // fake time: Run saves at most every MinInterval
		dir := t.TempDir()
		k := newKeeper(t, dir, "sig1", map[string]*mapPart{"a": {m: map[string]string{"k": "v"}}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { k.Run(ctx, MinInterval); close(done) }()
		for k.Stats().Saves < 3 {
			time.Sleep(MinInterval)
		}
		cancel()
		<-done
		if _, err := os.Stat(k.Path()); err != nil {
			t.Errorf("no snapshot after Run: %v", err)
		}
	})
}

func TestSignature(t *testing.T) {
	if Signature("a", "bc") == Signature("ab", "c") {
		t.Error("Signature does not separate its parts")
	}
	if got, want := Signature("x"), "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717"[:24]; got != want {
		t.Errorf("Signature(\"x\") = %s, want %s (the first 12 bytes of its SHA-256)", got, want)
	}
}

// FuzzParse feeds arbitrary files to the reader: it must never panic, and
// whatever it accepts must carry the right signature.
func FuzzParse(f *testing.F) {
	dir := f.TempDir()
	k, _ := New(dir, "f.snap", "sig")
	k.Add("a", &mapPart{m: map[string]string{"s1": "v1", "s2": "v2"}})
	if err := k.Save(context.Background()); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(k.Path())
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := parse(data, "sig", nil)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("parse error %v is not a *LoadError", err)
			}
			return
		}
		for _, s := range snap.sections {
			_ = s.Each(func(string, []byte) error { return nil })
		}
	})
}
