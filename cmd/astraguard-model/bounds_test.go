package main

import (
	"fmt"
	"io"
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
