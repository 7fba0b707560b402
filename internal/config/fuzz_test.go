package config_test

import (
	"errors"
	"os"
	"testing"

	"github.com/astraguard/astraguard/internal/config"
)

// FuzzParse: any input parses, or fails with *config.Error values; never a
// panic.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "grpc_addr: x\n", "breakers:\n  model:\n    count_window: {size: 3}\n",
		"policies:\n  - name: a\n    match: ['*']\n", "- x\n", "a: [b, {c: d}]\n", "breakers: {model: {backoff: {jitter: .nan}}}\n"} {
		f.Add([]byte(seed))
	}
	if ex, err := os.ReadFile("../../examples/config/astraguard.yaml"); err == nil {
		f.Add(ex)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("f.yaml", data, schema)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a config and an error")
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse error %T %v is no *config.Error", err, err)
			}
			return
		}
		_ = c.Values()
		_, _ = c.Policies()
	})
}
