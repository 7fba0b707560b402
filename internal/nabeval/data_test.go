package nabeval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadFileRefusesMalformedRows: every malformed line fails the load
// with an error naming the file and the line, instead of being skipped
// (a row without a comma, a blank line and a file without a header each
// lost a sample silently before: the header line was skipped unread).
func TestLoadFileRefusesMalformedRows(t *testing.T) {
	const good = "2014-02-14 14:30:00,1.5\n"
	tests := []struct {
		name, csv, want string
	}{
		{"no comma", "timestamp,value\n" + good + "2014-02-14 14:35:00 2\n", "line 3"},
		{"blank line", "timestamp,value\n" + good + "\n" + good, "line 3"},
		{"three fields", "timestamp,value\n" + good + "2014-02-14 14:35:00,2,3\n", "line 3"},
		{"empty value", "timestamp,value\n" + good + "2014-02-14 14:35:00,\n", "line 3"},
		{"bad timestamp", "timestamp,value\n" + good + "2014-02-14T14:35:00Z,2\n", "line 3"},
		{"bad value", "timestamp,value\n" + good + "2014-02-14 14:35:00,two\n", "line 3"},
		{"NaN", "timestamp,value\n" + good + "2014-02-14 14:35:00,NaN\n", "line 3"},
		{"infinity", "timestamp,value\n" + good + "2014-02-14 14:35:00,-Inf\n", "line 3"},
		{"no header", good + good, "line 1"},
		{"other header", "time,value\n" + good, "line 1"},
		{"empty file", "", "empty file"},
		{"header only", "timestamp,value\n", "no rows"},
		{"line too long", "timestamp,value\n" + good + "2014-02-14 14:35:00," + strings.Repeat("1", 70_000) + "\n", "line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.csv")
			if err := os.WriteFile(path, []byte(tt.csv), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := LoadFile(path)
			if err == nil {
				t.Fatalf("LoadFile = %d rows, nil; want an error naming %s", len(f.Values), tt.want)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadFile error = %v; want it to name %s and %q", err, path, tt.want)
			}
		})
	}
}

// TestLoadFileAcceptsNABSpelling: NAB's own files load whole: a byte
// order mark, CRLF line ends, spaces around fields, no final newline.
func TestLoadFileAcceptsNABSpelling(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.csv")
	csv := "\uFEFFtimestamp,value\r\n2014-02-14 14:30:00, 1.5\r\n 2014-02-14 14:35:00 ,-2e3"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Values) != 2 || f.Values[0] != 1.5 || f.Values[1] != -2000 || f.Raw[0] != "2014-02-14 14:30:00" {
		t.Errorf("LoadFile = %+v, want 2 rows 1.5 and -2000", f)
	}
}

// TestParsePerFileShortLine: a per-file line without a score is an
// error, not an index out of range.
func TestParsePerFileShortLine(t *testing.T) {
	out := "model standard 1 2 3 4 5\n    lonely\n"
	if _, err := parsePerFile([]byte(out)); err == nil {
		t.Error("parsePerFile accepted a per-file line without a score")
	}
}
