package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/connlimit"
)

// TestPacedDurationBounds: the durations that pace a loop of this binary
// (the checkpoint ticker, gRPC's keepalive loop closing idle connections)
// are refused at start below their bound, at 1ns, 0, -1ns and one
// nanosecond under it, naming the flag; the bound is accepted, and so is
// the longest duration (a ticker or timer of any length; nothing
// multiplies them). The series sweep is paced by store.SweepEvery, at
// least a second whatever --series-ttl is, so 1ns is accepted there.
func TestPacedDurationBounds(t *testing.T) {
	for _, s := range []struct {
		flag string
		min  time.Duration
	}{
		{"checkpoint-interval", checkpoint.MinInterval},
		{"max-connection-idle", connlimit.MinKeepalive},
		{"series-ttl", 0},
	} {
		for _, v := range []time.Duration{time.Nanosecond, 0, -time.Nanosecond, s.min - time.Nanosecond, s.min, 1<<63 - 1} {
			arg := fmt.Sprintf("--%s=%s", s.flag, v)
			_, err := parseConfig([]string{arg}, func(string) (string, bool) { return "", false }, io.Discard)
			if ok := v >= s.min; ok != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), "--"+s.flag)) {
				t.Errorf("parseConfig(%s) = %v, want ok %v (an error naming --%s)", arg, err, ok, s.flag)
			}
		}
	}
}

// TestZeroIsMeantOrRefused: every numeric flag set to 0 is refused naming
// the flag, or accepted where the flag's text says what 0 does; never a 0
// that silently takes the default.
func TestZeroIsMeantOrRefused(t *testing.T) {
	fs, _ := new(config).flagSet(io.Discard)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok {
			return
		}
		switch g.Get().(type) {
		case int, time.Duration:
		default:
			return
		}
		n++
		_, err := parseConfig([]string{"--" + f.Name + "=0"}, func(string) (string, bool) { return "", false }, io.Discard)
		meant := regexp.MustCompile(`(^|[ (;])0 (means|keeps|ends)\b`).MatchString(f.Usage)
		if (err == nil) != meant || (err != nil && !strings.HasPrefix(err.Error(), "--"+f.Name)) {
			t.Errorf("--%s=0: %v; the flag's text gives 0 a meaning: %v (%q)", f.Name, err, meant, f.Usage)
		}
	})
	if n < 7 {
		t.Errorf("walked %d numeric flags, want the 7 of today", n)
	}
}

// TestMaxSeriesBound: --max-series beyond what the series table indexes
// (2^31-1) is refused at parse time naming the flag, as astraguard's is;
// it passed parsing and failed at start with a dump of the table's
// config ("invalid store config: {Capacity:9223372036854775807 ...}").
func TestMaxSeriesBound(t *testing.T) {
	for _, v := range []string{"2147483647", "2147483648", "9223372036854775807"} {
		_, err := parseConfig([]string{"--max-series=" + v}, func(string) (string, bool) { return "", false }, io.Discard)
		if ok := v == "2147483647"; ok != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), "--max-series")) {
			t.Errorf("parseConfig(--max-series=%s) = %v, want ok %v (an error naming --max-series)", v, err, ok)
		}
	}
}
