package testkit

import (
	"os"
	"strings"
	"testing"
)

// CheckGenerated compares each section of the file at path between
// "<!-- generated: NAME -->" and "<!-- end generated -->" with sections[NAME],
// failing t for a stale one, or with update rewrites them (how is named by
// howToUpdate in the failure).
func CheckGenerated(t testing.TB, path string, sections map[string]string, update bool, howToUpdate string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, want := range sections {
		start, end := "<!-- generated: "+name+" -->\n", "<!-- end generated -->"
		i := strings.Index(doc, start)
		j := strings.Index(doc[max(i, 0):], end)
		if i < 0 || j < 0 {
			t.Errorf("%s: no section %q (markers %q ... %q)", path, name, start, end)
			continue
		}
		j += i
		if got := doc[i+len(start) : j]; got != want {
			if !update {
				t.Errorf("%s: section %q is stale; run %s\nwant:\n%s", path, name, howToUpdate, want)
				continue
			}
			doc = doc[:i+len(start)] + want + doc[j:]
		}
	}
	if update {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
