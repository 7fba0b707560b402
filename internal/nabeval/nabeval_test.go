package nabeval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type countStream struct{ n int }

func (c *countStream) Next(int64, float64) float64 { c.n++; return float64(c.n) / 10 }

func TestLoadAndRun(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(filepath.Join(data, "cat"), 0o755)
	csv := "timestamp,value\n2014-02-14 14:30:00,1.5\n2014-02-14 14:35:00,2\n"
	if err := os.WriteFile(filepath.Join(data, "cat", "f.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := LoadDir(data)
	if err != nil {
		t.Fatalf("LoadDir error = %v", err)
	}
	if len(files) != 1 || files[0].RelPath != "cat/f.csv" || len(files[0].Values) != 2 {
		t.Fatalf("LoadDir = %+v, want one file cat/f.csv with 2 rows", files[0])
	}
	if got, want := files[0].Times[1]-files[0].Times[0], int64(300e9); got != want {
		t.Errorf("timestamp step = %d ns, want %d", got, want)
	}
	res := filepath.Join(t.TempDir(), "RESULTS")
	err = Run(files, func(string) (Stream, error) { return &countStream{}, nil }, res, 0)
	if err != nil {
		t.Fatalf("Run error = %v", err)
	}
	b, err := os.ReadFile(filepath.Join(res, "cat", "f.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := "timestamp,value,anomaly_score,label\n2014-02-14 14:30:00,1.5,0.1,0\n2014-02-14 14:35:00,2,0.2,0\n"
	if string(b) != want {
		t.Errorf("result file =\n%s\nwant\n%s", b, want)
	}
}

func TestLoadDirEmpty(t *testing.T) {
	if _, err := LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no csv") {
		t.Errorf("LoadDir(empty) error = %v, want no csv files", err)
	}
}
