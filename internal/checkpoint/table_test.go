package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeTable is a sharded map with the Table methods.
type fakeTable struct {
	mu     sync.Mutex
	shards [4]map[string]fakeEntry
}

type fakeEntry struct {
	seen time.Time
	v    uint64
}

func newFakeTable() *fakeTable {
	t := &fakeTable{}
	for i := range t.shards {
		t.shards[i] = map[string]fakeEntry{}
	}
	return t
}

func (t *fakeTable) Shards() int { return len(t.shards) }

func (t *fakeTable) RangeShard(i int, fn func(string, time.Time, *uint64) bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, e := range t.shards[i] {
		if !fn(id, e.seen, &e.v) {
			return false
		}
	}
	return true
}

func (t *fakeTable) Restore(id string, v uint64, seen time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.shards[len(id)%len(t.shards)][id] = fakeEntry{seen, v}
}

var u64Codec = Codec[uint64]{
	Append: func(b []byte, v *uint64) ([]byte, error) { return binary.LittleEndian.AppendUint64(b, *v), nil },
	Decode: func(id string, b []byte) (uint64, error) {
		if len(b) != 8 {
			return 0, errors.New("want 8 bytes")
		}
		v := binary.LittleEndian.Uint64(b)
		if v == 1<<40 {
			return 0, errors.New("forbidden value")
		}
		return v, nil
	},
}

func TestTablePartRoundTrip(t *testing.T) {
	src := newFakeTable()
	t0 := time.Unix(1_700_000_000, 123)
	for i := range 1000 {
		src.Restore(fmt.Sprint("series-", i), uint64(i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	dir := t.TempDir()
	k, _ := New(dir, "t.snap", "sig")
	k.Add("series", NewTablePart(src, u64Codec))
	if err := k.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
	dst := newFakeTable()
	k2, _ := New(dir, "t.snap", "sig")
	k2.Add("series", NewTablePart(dst, u64Codec))
	k2.Restore(t.Context())
	if st := k2.Stats(); st.Restored != 1000 {
		t.Fatalf("Stats after Restore = %+v", st)
	}
	for i := range src.shards {
		if len(dst.shards[i]) != len(src.shards[i]) {
			t.Fatalf("shard %d: %d entries restored, want %d", i, len(dst.shards[i]), len(src.shards[i]))
		}
		for id, e := range src.shards[i] {
			if got := dst.shards[i][id]; got.v != e.v || !got.seen.Equal(e.seen) {
				t.Errorf("%s restored as %+v, want %+v", id, got, e)
			}
		}
	}
}

// TestTablePartRefusesWholeSnapshot: one bad record and nothing at all is
// restored.
func TestTablePartRefusesWholeSnapshot(t *testing.T) {
	src := newFakeTable()
	for i := range 100 {
		src.Restore(fmt.Sprint("s", i), uint64(i), time.Unix(0, 0))
	}
	src.Restore("bad", 1<<40, time.Unix(0, 0))
	dir := t.TempDir()
	k, _ := New(dir, "t.snap", "sig")
	k.Add("series", NewTablePart(src, u64Codec))
	if err := k.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
	dst := newFakeTable()
	k2, _ := New(dir, "t.snap", "sig")
	k2.Add("series", NewTablePart(dst, u64Codec))
	k2.Restore(t.Context())
	for i := range dst.shards {
		if len(dst.shards[i]) != 0 {
			t.Fatalf("a snapshot with a bad record was partly restored: %v", dst.shards)
		}
	}
	if n := k2.Stats().RestoreErrors[ReasonInvalid]; n != 1 {
		t.Errorf("RestoreErrors[invalid] = %d, want 1", n)
	}
}

// TestTablePartCopiesUnderTheLock: with Codec.Copy set, SaveState copies
// each value with Copy while the shard is locked (a value holding state
// through a pointer must not be read by Append while a scorer changes
// it) and encodes the copies after unlocking; the snapshot restores.
func TestTablePartCopiesUnderTheLock(t *testing.T) {
	src := newFakeTable()
	for i := range 300 {
		src.Restore(fmt.Sprint("series-", i), uint64(i), time.Unix(0, 0))
	}
	codec := u64Codec
	copies, reused := 0, 0
	codec.Copy = func(dst, v *uint64) {
		if src.mu.TryLock() {
			src.mu.Unlock()
			t.Error("Copy called without the shard's lock")
		}
		if *dst != 0 {
			reused++ // a copy of an earlier shard's, which Copy may reuse
		}
		copies++
		*dst = *v
	}
	encode := codec.Append
	codec.Append = func(b []byte, v *uint64) ([]byte, error) {
		if !src.mu.TryLock() {
			t.Error("Append called under the shard's lock")
		} else {
			src.mu.Unlock()
		}
		return encode(b, v)
	}
	dir := t.TempDir()
	k, _ := New(dir, "t.snap", "sig")
	k.Add("series", NewTablePart(src, codec))
	if err := k.Save(t.Context()); err != nil {
		t.Fatal(err)
	}
	if copies != 300 || reused == 0 {
		t.Errorf("Copy called %d times (%d on an earlier copy), want 300, some on an earlier copy", copies, reused)
	}
	dst := newFakeTable()
	k2, _ := New(dir, "t.snap", "sig")
	k2.Add("series", NewTablePart(dst, u64Codec))
	k2.Restore(t.Context())
	for i := range src.shards {
		for id, e := range src.shards[i] {
			if got := dst.shards[i][id]; got.v != e.v {
				t.Errorf("%s restored as %d, want %d", id, got.v, e.v)
			}
		}
	}
}
