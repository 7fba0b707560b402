package main

import (
	"errors"
	"io"
	"testing"

	"github.com/astraguard/astraguard/internal/version"
)

func TestVersionFlag(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	for _, args := range [][]string{{"--version"}, {"--max-series=0", "-version"}} {
		if _, err := parseConfig(args, noEnv, io.Discard); !errors.Is(err, version.ErrRequested) {
			t.Errorf("parseConfig(%q) error = %v, want version.ErrRequested", args, err)
		}
	}
}
