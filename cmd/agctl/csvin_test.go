package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSeries(t *testing.T) {
	t0 := time.Date(2014, 4, 10, 7, 15, 0, 0, time.UTC).UnixNano()
	tests := []struct {
		name    string
		in      string
		nanos   []int64
		values  []float64
		wantErr []string // substrings, each a file:line report
	}{
		{
			name:   "nab",
			in:     "timestamp,value\n2014-04-10 07:15:00,1.5\n2014-04-10 07:20:00,20\n",
			nanos:  []int64{t0, t0 + 5*60e9},
			values: []float64{1.5, 20},
		},
		{
			name:   "nab fractional, rfc3339, unix seconds and nanos",
			in:     "timestamp,value\n2014-04-10 07:15:00.000000,1\n2014-04-10T07:15:01Z,2\n1397114102,3\n1397114103000000000,4\n1397114104.5,5\n",
			nanos:  []int64{t0, t0 + 1e9, t0 + 2e9, t0 + 3e9, t0 + 4.5e9},
			values: []float64{1, 2, 3, 4, 5},
		},
		{
			name:   "bom, reordered and extra columns, blank line",
			in:     "\ufeffvalue,label,timestamp\n7,0,2014-04-10 07:15:00\n\n8,1,2014-04-10 07:20:00\n",
			nanos:  []int64{t0, t0 + 5*60e9},
			values: []float64{7, 8},
		},
		{
			name:    "bad timestamp and bad value",
			in:      "timestamp,value\n2014-04-10 07:15:00,1\nyesterday,2\n2014-04-10 07:25:00,lots\n",
			wantErr: []string{`f.csv:3: unparseable timestamp "yesterday"`, `f.csv:4: value "lots" is not a number`},
		},
		{
			name:    "line numbers count blank lines",
			in:      "timestamp,value\n\n\n2014-04-10 07:15:00,\n",
			wantErr: []string{`f.csv:4: value "" is not a number`},
		},
		{
			name:    "short row",
			in:      "timestamp,value\n2014-04-10 07:15:00\n",
			wantErr: []string{"f.csv:2: 1 fields, want at least 2"},
		},
		{
			name:    "ambiguous unix milliseconds",
			in:      "timestamp,value\n1397114100000,1\n",
			wantErr: []string{"f.csv:2: unix timestamp"},
		},
		{
			name:    "bare quote",
			in:      "timestamp,value\n2014-04-10 07:15:00,1\n2014-04-10 \"07:20:00,2\n2014-04-10 07:25:00,3\n",
			wantErr: []string{"f.csv:3: bare \" in non-quoted-field"},
		},
		{
			name:    "no value column",
			in:      "time,value\n2014-04-10 07:15:00,1\n",
			wantErr: []string{"f.csv:1: header"},
		},
		{
			name:    "empty",
			in:      "",
			wantErr: []string{"f.csv:1: empty file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseSeries("f.csv", strings.NewReader(tt.in))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("parseSeries(%q) = nil error, want %q", tt.in, tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("parseSeries(%q) error = %q, want it to contain %q", tt.in, err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSeries(%q) = %v", tt.in, err)
			}
			if s.id != "f" {
				t.Errorf("id = %q, want f", s.id)
			}
			if diff := cmp.Diff(tt.nanos, s.nanos); diff != "" {
				t.Errorf("nanos (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.values, s.values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSeriesCapsErrors(t *testing.T) {
	in := "timestamp,value\n" + strings.Repeat("bad,1\n", maxRowErrors+5)
	_, err := parseSeries("f.csv", strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "5 more bad rows") {
		t.Errorf("parseSeries(%d bad rows) = %v, want a capped report", maxRowErrors+5, err)
	}
}

func TestPlanBatches(t *testing.T) {
	sec := int64(time.Second)
	tests := []struct {
		name  string
		nanos []int64
		size  int
		speed float64
		want  []batch
	}{
		{"fast", []int64{0, 1, 2, 3, 4}, 2, 0, []batch{{0, 2, 0}, {2, 4, 0}, {4, 5, 0}}},
		{"realtime", []int64{0, sec, 2 * sec}, 10, 1, []batch{{0, 1, 0}, {1, 2, time.Second}, {2, 3, 2 * time.Second}}},
		{"10x coalesces within the quantum", []int64{0, sec / 100, sec}, 10, 10, []batch{{0, 2, time.Millisecond}, {2, 3, 100 * time.Millisecond}}},
		{"size caps a coalesced batch", []int64{0, 0, 0}, 2, 1, []batch{{0, 2, 0}, {2, 3, 0}}},
		{"out of order never waits backwards", []int64{10 * sec, 0, 11 * sec}, 10, 1, []batch{{0, 2, 0}, {2, 3, time.Second}}},
		// A due time past time.Duration's range saturates: it wrapped to
		// a negative duration, so a very slow replay sent at once.
		{"a slow speed saturates", []int64{0, 3600 * sec}, 10, 1e-15, []batch{{0, 1, 0}, {1, 2, math.MaxInt64}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := planBatches(tt.nanos, tt.size, tt.speed)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(batch{})); diff != "" {
				t.Errorf("planBatches(%v, %d, %g) (-want +got):\n%s", tt.nanos, tt.size, tt.speed, diff)
			}
		})
	}
}

// TestLoadSeriesRefusesNonRegularFiles: a .csv that is a FIFO or a link
// to a device is refused by name, not waited on for ever (a FIFO no one
// writes) or read until memory runs out (/dev/zero).
func TestLoadSeriesRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.csv"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.csv")); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"fifo.csv", "zero.csv"} {
		if _, err := loadSeries(dir, rel); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("loadSeries(%s) = %v, want refused as not a regular file", rel, err)
		}
	}
}
