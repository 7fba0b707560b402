package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// TestEveryFlagHasVariable: parsing asks the environment for every flag's
// derived variable (ASTRAGUARD_<FLAG>), and a variable set to the flag's
// default text counts as set (it beats the file), so a new flag cannot
// lack its variable.
func TestEveryFlagHasVariable(t *testing.T) {
	asked := map[string]bool{}
	if _, err := parseConfig(nil, func(k string) (string, bool) { asked[k] = true; return "", false }, io.Discard); err != nil {
		t.Fatal(err)
	}
	fs, _ := new(config).flagSet(io.Discard)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "version" {
			return
		}
		n++
		want := "ASTRAGUARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if !asked[want] {
			t.Errorf("flag --%s: %s was never looked up", f.Name, want)
		}
		if f.Name == "check-config" || f.Name == "config" {
			return
		}
		v := f.DefValue
		c, err := parseConfig(nil, func(k string) (string, bool) { return v, k == want }, io.Discard)
		if err != nil && !strings.Contains(err.Error(), "--") { // cross-flag rules may refuse a lone value
			t.Errorf("%s=%q: %v", want, v, err)
		}
		if err == nil && !c.explicit[f.Name] {
			t.Errorf("%s=%q did not mark --%s as set", want, v, f.Name)
		}
	})
	if n < 50 {
		t.Errorf("checked %d flags, want at least the 50 of today", n)
	}
	if asked["ASTRAGUARD_VERSION"] {
		t.Error("ASTRAGUARD_VERSION was looked up: --version is an action, not a setting")
	}
}
