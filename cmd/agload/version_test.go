package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestVersion: -version needs no -target.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-version"}, &out, &out); err != nil {
		t.Fatalf("run(-version) = %v", err)
	}
	if got := out.String(); !strings.HasPrefix(got, "agload ") || !strings.Contains(got, " go1.") {
		t.Errorf("run(-version) printed %q, want the name and Go version", got)
	}
}
