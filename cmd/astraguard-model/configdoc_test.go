package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/astraguard/astraguard/internal/testkit"
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
	testkit.CheckGenerated(t, "../../docs/configuration.md", map[string]string{"astraguard-model-flags": b.String()}, *updateDocs,
		"go test ./cmd/astraguard-model -run TestConfigurationDoc -update-docs")
}

// TestVariablesSharedWithTheService: astraguard's flags --model-name,
// --model-tls-cert and --model-tls-key derive the same variables as this
// binary's --model-name (alias), --tls-cert and --tls-key. Both read
// them in one environment; docs/configuration.md warns about it. Any
// further overlap fails here (the service's variables are read from its
// generated table, which its own test keeps true).
func TestVariablesSharedWithTheService(t *testing.T) {
	raw, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	_, section, _ := strings.Cut(doc, "<!-- generated: astraguard-flags -->")
	section, _, _ = strings.Cut(section, "<!-- end generated -->")
	service := map[string]bool{}
	for _, m := range regexp.MustCompile("`(ASTRAGUARD_[A-Z_]+)`").FindAllStringSubmatch(section, -1) {
		service[m[1]] = true
	}
	if len(service) < 50 {
		t.Fatalf("found %d service variables in docs/configuration.md, want the whole table", len(service))
	}
	fs, _ := new(config).flagSet(io.Discard)
	var shared []string
	for _, v := range envBinding.Variables(fs) {
		if service[v] {
			shared = append(shared, v)
		}
	}
	for _, v := range envBinding.Aliases {
		if service[v] {
			shared = append(shared, v)
		}
	}
	slices.Sort(shared)
	want := []string{"ASTRAGUARD_MODEL_NAME", "ASTRAGUARD_MODEL_TLS_CERT", "ASTRAGUARD_MODEL_TLS_KEY"}
	if !slices.Equal(shared, want) {
		t.Errorf("variables both binaries read = %q, want %q (documented in docs/configuration.md)", shared, want)
	}
	if !strings.Contains(doc, "`ASTRAGUARD_MODEL_TLS_CERT` and `ASTRAGUARD_MODEL_TLS_KEY`") {
		t.Error("docs/configuration.md does not warn about the shared variables")
	}
}
