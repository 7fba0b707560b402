package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), []string{arg}, &out, &errOut); err != nil {
			t.Fatalf("run(%q) = %v", arg, err)
		}
		if got := out.String(); !strings.HasPrefix(got, "agctl ") || !strings.Contains(got, " go1.") {
			t.Errorf("run(%q) printed %q, want the name and Go version", arg, got)
		}
	}
}
