package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// updateDocs rewrites this binary's generated section of
// docs/configuration.md:
// go test ./cmd/astraguard-model -run TestConfigurationDoc -update-docs
var updateDocs = flag.Bool("update-docs", false, "rewrite the generated section of docs/configuration.md")

// TestConfigurationDoc: docs/configuration.md lists every flag of
// astraguard-model with its variable and default, as the code has them.
func TestConfigurationDoc(t *testing.T) {
	fs, _ := new(config).flagSet(io.Discard)
	vars := envBinding.Variables(fs)
	var b strings.Builder
	b.WriteString("| flag | variable | default | meaning |\n|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		v := "–"
		if vars[f.Name] != "" {
			v = "`" + vars[f.Name] + "`"
		}
		d := "`" + f.DefValue + "`"
		if f.DefValue == "" {
			d = "empty"
		}
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "| `--%s` | %s | %s | %s |\n", strings.TrimSpace(f.Name+" "+name), v, d, strings.ReplaceAll(usage, "|", `\|`))
	})
	const path, start, end = "../../docs/configuration.md", "<!-- generated: astraguard-model-flags -->\n", "<!-- end generated -->"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, start)
	j := strings.Index(doc[max(i, 0):], end)
	if i < 0 || j < 0 {
		t.Fatalf("%s: no section between %q and %q", path, start, end)
	}
	j += i
	if got, want := doc[i+len(start):j], b.String(); got != want {
		if !*updateDocs {
			t.Fatalf("%s: the astraguard-model table is stale; run go test ./cmd/astraguard-model -run TestConfigurationDoc -update-docs\nwant:\n%s", path, want)
		}
		if err := os.WriteFile(path, []byte(doc[:i+len(start)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
