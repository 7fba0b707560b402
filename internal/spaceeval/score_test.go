package spaceeval

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func loadFixture(t *testing.T) ([]Entry, map[string][]bool) {
	t.Helper()
	es, err := LoadMeta("testdata/meta.json")
	if err != nil {
		t.Fatal(err)
	}
	flags, err := ReadRun("testdata/run", es)
	if err != nil {
		t.Fatal(err)
	}
	return es, flags
}

// TestScoreFixture checks the fixture's counts worked out by hand: MSL/X-1
// has a false run, a run over two labelled sequences (only the first
// counts), a second false run and two runs in one sequence (one TP, no
// FP); SMAP/Y-1 has two label rows scored against the same flags; SMAP/Z-1
// is never flagged. Train-row flags are ignored.
func TestScoreFixture(t *testing.T) {
	es, flags := loadFixture(t)
	r, err := Score(es, flags, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Counts{"MSL": {2, 2, 1}, "SMAP": {1, 5, 2}}
	if !reflect.DeepEqual(r.BySpacecraft, want) || r.Total != (Counts{3, 7, 3}) {
		t.Fatalf("counts %v total %v, want %v total {3 7 3}", r.BySpacecraft, r.Total, want)
	}
	if p, rc, f1 := r.Total.Precision(), r.Total.Recall(), r.Total.F1(); p != 0.3 || rc != 0.5 || math.Abs(f1-0.375) > 1e-12 {
		t.Errorf("P %v R %v F1 %v, want 0.3 0.5 0.375", p, rc, f1)
	}
	if r.Found[Point] != 2 || r.Labelled[Point] != 3 || r.Found[Contextual] != 1 || r.Labelled[Contextual] != 3 {
		t.Errorf("class recall: found %v of %v, want point 2/3, contextual 1/3", r.Found, r.Labelled)
	}
	// A buffer of 3 rows joins X-1's runs and lets Y-1's first flag reach
	// the contextual sequence at rows 2-4.
	r3, _ := Score(es, flags, 3)
	if r3.Total != (Counts{3, 3, 3}) || r3.BySpacecraft["MSL"] != (Counts{1, 1, 2}) {
		t.Errorf("buffer 3: total %v, MSL %v; want {3 3 3}, {1 1 2}", r3.Total, r3.BySpacecraft["MSL"])
	}
}

func TestSequences(t *testing.T) {
	f := func(s string) []bool {
		b := make([]bool, len(s))
		for i, c := range s {
			b[i] = c == 'x'
		}
		return b
	}
	for _, c := range []struct {
		flags  string
		buffer int
		want   [][2]int
	}{
		{"....", 0, nil},
		{"x..xx.", 0, [][2]int{{0, 0}, {3, 4}}},
		{"x..xx.", 1, [][2]int{{0, 5}}},
		{"xx......x", 2, [][2]int{{0, 3}, {6, 8}}},
		{"xxxx", 5, [][2]int{{0, 3}}},
	} {
		if got := Sequences(f(c.flags), c.buffer); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Sequences(%s, %d) = %v, want %v", c.flags, c.buffer, got, c.want)
		}
	}
}

func TestLoadMetaRejects(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"empty":         `[]`,
		"class count":   `[{"series":"A/x","spacecraft":"A","n_train":1,"n_test":5,"anomaly_sequences":[[1,2]],"class":"[point, point]"}]`,
		"unknown class": `[{"series":"A/x","spacecraft":"A","n_train":1,"n_test":5,"anomaly_sequences":[[1,2]],"class":"[weird]"}]`,
		"out of range":  `[{"series":"A/x","spacecraft":"A","n_train":1,"n_test":5,"anomaly_sequences":[[1,5]],"class":"[point]"}]`,
		"reversed":      `[{"series":"A/x","spacecraft":"A","n_train":1,"n_test":5,"anomaly_sequences":[[3,2]],"class":"[point]"}]`,
		"no test split": `[{"series":"A/x","spacecraft":"A","n_train":1,"n_test":0,"anomaly_sequences":[],"class":"[]"}]`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := LoadMeta(p); err == nil {
			t.Errorf("%s: LoadMeta accepted %s", name, body)
		}
	}
}

func TestReadRunWantsEveryRow(t *testing.T) {
	es, _ := loadFixture(t)
	es[0].NTest++
	if _, err := ReadRun("testdata/run", es); err == nil || !strings.Contains(err.Error(), "MSL/X-1") {
		t.Errorf("ReadRun with a row missing = %v, want an error naming MSL/X-1", err)
	}
	if _, err := ReadRun(t.TempDir(), es); err == nil {
		t.Error("ReadRun of an empty directory succeeded")
	}
}

// scorePy locates the reference scorer: $SPACECRAFT/score.py, else the
// shared folder beside the repository.
func scorePy(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SPACECRAFT")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "spacecraft")
	}
	p := filepath.Join(dir, "score.py")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("reference scorer not found (%v); set SPACECRAFT to the spacecraft folder to compare", err)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed: the comparison with score.py is skipped")
	}
	return p
}

var (
	pyCounts = regexp.MustCompile(`(SMAP|MSL|Total)\s+TP=\s*(\d+) FP=\s*(\d+) FN=\s*(\d+)`)
	pyClass  = regexp.MustCompile(`(point|contextual) (\d+)/(\d+)`)
)

// TestMatchesScorePy runs the reference scorer on the fixture at several
// buffers and compares every count it prints.
func TestMatchesScorePy(t *testing.T) {
	py := scorePy(t)
	es, flags := loadFixture(t)
	for _, buf := range []int{0, 1, 3, 10} {
		out, err := exec.Command("python3", py, "testdata/meta.json", "testdata/run", "--buffer", strconv.Itoa(buf)).CombinedOutput()
		if err != nil {
			t.Fatalf("score.py: %v\n%s", err, out)
		}
		r, err := Score(es, flags, buf)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range pyCounts.FindAllStringSubmatch(string(out), -1) {
			c := r.Total
			if m[1] != "Total" {
				c = r.BySpacecraft[m[1]]
			}
			if want := [3]string{m[2], m[3], m[4]}; want != [3]string{strconv.Itoa(c.TP), strconv.Itoa(c.FP), strconv.Itoa(c.FN)} {
				t.Errorf("buffer %d %s: Go %+v, score.py TP FP FN %v", buf, m[1], c, want)
			}
			n++
		}
		for _, m := range pyClass.FindAllStringSubmatch(string(out), -1) {
			if got := [2]string{strconv.Itoa(r.Found[m[1]]), strconv.Itoa(r.Labelled[m[1]])}; got != [2]string{m[2], m[3]} {
				t.Errorf("buffer %d class %s: Go %v, score.py %s/%s", buf, m[1], got, m[2], m[3])
			}
			n++
		}
		if n != 5 {
			t.Fatalf("buffer %d: parsed %d numbers lines from score.py, want 5:\n%s", buf, n, out)
		}
	}
}

// TestReadRunRefusesBadFlags: an anomaly cell other than 1, 0, true or
// false is an error naming the file and line, not a silent "no flag".
func TestReadRunRefusesBadFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.csv")
	csv := "timestamp,value,anomaly_score,anomaly\n2015-01-01 00:00:00,1,0.1,0\n2015-01-01 00:01:00,1,0.9,yes\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRun(dir, []Entry{{Series: "x", NTrain: 0, NTest: 2}}); err == nil || !strings.Contains(err.Error(), path+":3") {
		t.Errorf("ReadRun with anomaly %q = %v, want an error naming %s:3", "yes", err, path)
	}
}
