package main

import (
	"io"
	"strings"
	"testing"
)

// TestCadenceChecked: a cadence outside (0, 24h] is refused before any
// data is read; 0s and -60s replayed every channel with times standing
// still or running backwards and printed scores as if nothing were wrong.
func TestCadenceChecked(t *testing.T) {
	missing := t.TempDir() + "/missing"
	for _, c := range []string{"0s", "-60s", "60s,-1s", "25h"} {
		err := run([]string{"-data", missing, "-cadence", c}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "cadence") {
			t.Errorf("run(-cadence %s) = %v, want a cadence error", c, err)
		}
	}
}
