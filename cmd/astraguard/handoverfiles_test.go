package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// handoverMetric reads one handover metric (with its labels) off a replica.
func handoverMetric(t *testing.T, addrs servingLine, name string) float64 {
	t.Helper()
	return metric(t, httpGet(t, "http://"+addrs.HTTP+"/metrics"), name)
}

// TestHandoverDirHostileFiles: files in --handover-dir that are not
// snapshots, or are larger than --max-series records can take, are refused
// without being read (no memory spent on them), counted and logged once;
// those that are not snapshots are set aside, so a second replica does not
// read them again.
func TestHandoverDirHostileFiles(t *testing.T) {
	sig, _ := drainedReplica(t, 1)
	dir := t.TempDir()
	sparse := func(name string, head []byte, size int64) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, head, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, size); err != nil {
			t.Fatal(err)
		}
	}
	sparse("zeros.snap", nil, 600<<20)
	writeHandover(t, dir, "huge.snap", sig, nil)
	if err := os.Truncate(filepath.Join(dir, "huge.snap"), 1<<30); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "link.snap")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.snap"), 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	addrs, logs := startLogged(t, "--handover-dir="+dir, "--replica-name=b", "--max-series=100")
	waitLog(t, logs, 0, "handover snapshot refused", "fifo.snap")
	for _, name := range []string{"zeros.snap", "huge.snap", "link.snap"} {
		waitLog(t, logs, 0, "handover snapshot refused", name)
	}
	runtime.ReadMemStats(&after)
	// The 1.6 GB of files must not be read: the whole run allocates far less.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
		t.Errorf("the replica allocated %d MB while refusing the files; want them refused unread", alloc>>20)
	}
	want := map[string]float64{"corrupt": 1, "oversized": 1, "not_regular": 2}
	for reason, n := range want {
		if v := handoverMetric(t, addrs, fmt.Sprintf(`astraguard_state_handover_errors_total{reason=%q}`, reason)); v != n {
			t.Errorf("handover errors (%s) = %v, want %v", reason, v, n)
		}
	}
	if v := handoverMetric(t, addrs, "astraguard_state_handover_files_set_aside_total"); v != 3 {
		t.Errorf("files set aside = %v, want 3 (huge.snap may suit a larger --max-series: left)", v)
	}
	for _, name := range []string{"zeros.snap", "link.snap", "fifo.snap"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s is still in the handover directory; want it set aside", name)
		}
		if aside := asideFiles(t, dir, name); len(aside) != 1 {
			t.Errorf("%s set aside as %q, want one copy", name, aside)
		}
	}
	// A second replica reads none of them again, and only the header of
	// the one left.
	addrs2, logs2 := startLogged(t, "--handover-dir="+dir, "--replica-name=c", "--max-series=100")
	waitLog(t, logs2, 0, "handover snapshot refused", "huge.snap")
	for _, reason := range []string{"corrupt", "not_regular"} {
		if v := handoverMetric(t, addrs2, fmt.Sprintf(`astraguard_state_handover_errors_total{reason=%q}`, reason)); v != 0 {
			t.Errorf("second replica: handover errors (%s) = %v, want 0", reason, v)
		}
	}
}

// TestHandoverOversizedRecord: a well-formed snapshot of the right
// signature with one record larger than the codec writes is refused as
// oversized and set aside; nothing of it is indexed.
func TestHandoverOversizedRecord(t *testing.T) {
	sig, recs := drainedReplica(t, 2)
	dir := t.TempDir()
	big := snapRecord{"s1", make([]byte, 64<<10)}
	writeHandover(t, dir, "a.snap", sig, []snapRecord{recs[0], big})
	addrs, logs := startLogged(t, "--handover-dir="+dir, "--replica-name=b", "--max-series=100")
	waitLog(t, logs, 0, "handover snapshot refused", "a.snap")
	if v := handoverMetric(t, addrs, `astraguard_state_handover_errors_total{reason="oversized"}`); v != 1 {
		t.Errorf("handover errors (oversized) = %v, want 1; logs:\n%s", v, logs.String())
	}
	if v := handoverMetric(t, addrs, "astraguard_state_handover_series_indexed"); v != 0 {
		t.Errorf("indexed %v series of a refused file, want 0", v)
	}
}

// TestHandoverUndecodableRecords: 500 records of the right length that do
// not decode are counted as errors, never as adopted; their series start
// cold, and the WARN lines about them are rate-limited. Records of the
// wrong length are refused when indexed and take no slot from real ones.
func TestHandoverUndecodableRecords(t *testing.T) {
	sig, recs := drainedReplica(t, 50)
	dir := t.TempDir()
	var bad, junk []snapRecord
	for i := range 500 {
		v := append([]byte(nil), recs[0].value...)
		v[8] = 0xff // the entry's codec version, after the last-use time
		bad = append(bad, snapRecord{fmt.Sprintf("bad%d", i), v})
	}
	for i := range 90 {
		junk = append(junk, snapRecord{fmt.Sprintf("junk%d", i), recs[0].value[:len(recs[0].value)-1]})
	}
	writeHandover(t, dir, "a-bad.snap", sig, bad)
	writeHandover(t, dir, "b-junk.snap", sig, junk) // read before the real file: names sort
	writeHandover(t, dir, "c-real.snap", sig, recs)
	addrs, logs := startLogged(t, "--handover-dir="+dir, "--replica-name=z", "--max-series=600", "--model-timeout=1m")
	waitLog(t, logs, 0, "handover snapshot indexed", "c-real.snap")
	if v := handoverMetric(t, addrs, "astraguard_state_handover_series_indexed"); v != 550 {
		t.Errorf("indexed %v series, want the 500 bad and the 50 real ones, none of the 90 junk", v)
	}
	for _, v := range detect(t, addrs.GRPC, "bad", 500) {
		if v.GetFallbackReason() != astraguardv1.FallbackReason_FALLBACK_REASON_WARMING_UP {
			t.Fatalf("verdict of %s = %v, want it cold (warming up)", v.GetSeriesId(), v)
		}
	}
	if v := handoverMetric(t, addrs, "astraguard_state_handover_series_adopted_total"); v != 0 {
		t.Errorf("adopted %v series from undecodable records, want 0", v)
	}
	if v := handoverMetric(t, addrs, `astraguard_state_handover_errors_total{reason="invalid"}`); v != 590 {
		t.Errorf("handover errors (invalid) = %v, want 590 (500 undecodable, 90 of the wrong length)", v)
	}
	if n := strings.Count(logs.String(), "handed-over series state refused"); n == 0 || n > 5 {
		t.Errorf("%d WARN lines for 500 refused records, want a few (rate-limited)", n)
	}
	detect(t, addrs.GRPC, "s", 50)
	if v := handoverMetric(t, addrs, "astraguard_state_handover_series_adopted_total"); v != 50 {
		t.Errorf("adopted %v of the 50 real series, want 50", v)
	}
}
