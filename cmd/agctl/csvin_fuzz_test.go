package main

import (
	"bytes"
	"encoding/csv"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rowErrorLine matches one line of parseSeries' joined error: a row
// report with its line number, or the count of further bad rows.
var rowErrorLine = regexp.MustCompile(`^f\.csv:(\d+): |^f\.csv: \d+ more bad rows$`)

// FuzzCSVReader feeds arbitrary bytes to the CSV reader. It must never
// panic, and either return every data row, each timestamp and value read
// back exactly, or fail with errors that each name a line of the input.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"timestamp,value\n2014-04-10 07:15:00,1.5\n2014-04-10 07:20:00,20\n",
		"timestamp,value\n1397114102,NaN\n1397114103,+Inf\n1397114104,-Inf\n1397114105,1e308\n1397114106,-0\n",
		"\ufeffvalue,label,timestamp\n7,0,2014-04-10 07:15:00\n\n8,1,2014-04-10 07:20:00\n",
		"timestamp,value\n9999-12-31 23:59,1\n0001-01-01 00:00,2\n",
		"timestamp,value\n99999999999,1\n-99999999999,2\n9223372036854775807,3\n",
		"timestamp,value\n2014-04-10 \"07:20:00,2\n\"a\"\"b\",1\n",
		"timestamp,value\r\n2014-04-10T07:15:01Z,1\r\n",
		"timestamp,value\n" + strings.Repeat("2014-04-10 07:15:00,1\n", 500),
		"timestamp,value\n" + strings.Repeat("x,y\n", 20),
		"ťïmë,välüé\n1,2\n",
		"timestamp,value\n1397114102,\xff\xfe\n",
		"",
		"timestamp",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSeries("f.csv", bytes.NewReader(data))
		lines := bytes.Count(data, []byte("\n")) + 1
		if err != nil {
			for _, l := range strings.Split(err.Error(), "\n") {
				m := rowErrorLine.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("error line %q names no input line", l)
				}
				if m[1] != "" {
					if n, _ := strconv.Atoi(m[1]); n < 1 || n > lines {
						t.Fatalf("error line %q: line %d outside the input's %d lines", l, n, lines)
					}
				}
			}
			return
		}
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		records, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("parseSeries accepted input that encoding/csv rejects: %v", err)
		}
		rows := len(records) - 1
		if len(s.values) != rows || len(s.nanos) != rows || len(s.stamps) != rows || len(s.texts) != rows {
			t.Fatalf("%d data rows in, %d values, %d timestamps, %d stamps, %d texts out",
				rows, len(s.values), len(s.nanos), len(s.stamps), len(s.texts))
		}
		for i := range rows {
			ts, err := parseTimestamp(s.stamps[i])
			if err != nil || !time.Unix(0, s.nanos[i]).Equal(ts) {
				t.Fatalf("row %d: timestamp %q read as %d (%v), which is not %v", i+1, s.stamps[i], s.nanos[i], time.Unix(0, s.nanos[i]).UTC(), ts)
			}
			v, err := strconv.ParseFloat(s.texts[i], 64)
			if err != nil || (v != s.values[i] && !(math.IsNaN(v) && math.IsNaN(s.values[i]))) {
				t.Fatalf("row %d: value %q read as %v", i+1, s.texts[i], s.values[i])
			}
		}
	})
}

// TestTimestampOutsideNanosRange is the regression FuzzCSVReader found:
// times past 2262 used to wrap silently to a wrong instant.
func TestTimestampOutsideNanosRange(t *testing.T) {
	in := "timestamp,value\n9999-12-31 23:59,1\n99999999999,2\n2262-04-11 23:47:16.854775807,3\n"
	_, err := parseSeries("f.csv", strings.NewReader(in))
	for _, want := range []string{
		`f.csv:2: timestamp "9999-12-31 23:59" is outside the years 1678 to 2262`,
		`f.csv:3: timestamp "99999999999" is outside the years 1678 to 2262`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseSeries() error = %v, want it to contain %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "f.csv:4") {
		t.Errorf("parseSeries() error = %v: the last representable nanosecond was refused", err)
	}
}
