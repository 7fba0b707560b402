package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// zeroMeant finds a flag text that says what 0 does ("0 disables",
// "(0 keeps the preset's)", "0 means ...").
var zeroMeant = regexp.MustCompile(`(^|[ (;])0 (means|disables|keeps|turns|fails|ends)\b`)

// TestZeroIsMeantOrRefused: every numeric setting written 0, as a flag, as
// its variable and as its file key, is either refused with an error naming
// that flag (or the file, line and key), or accepted where the flag's text
// says what 0 does. Never a 0 that silently takes the default: whoever
// wrote --keepalive-time=0 meant off or made a mistake.
func TestZeroIsMeantOrRefused(t *testing.T) {
	fs, _ := new(config).flagSet(io.Discard)
	dir := t.TempDir()
	path := filepath.Join(dir, "zero.yaml")
	refused, meant := 0, 0
	fs.VisitAll(func(f *flag.Flag) {
		kind := numericKind(f)
		if kind == "" {
			return
		}
		zero := "0"
		if kind == "duration" {
			zero = "0s"
		}
		documented := zeroMeant.MatchString(f.Usage)
		env := envBinding.Variables(fs)[f.Name]
		type source struct{ name, wantPrefix string }
		tries := map[source]func() error{
			{"flag", "--" + f.Name + ": "}: func() error {
				_, err := parseConfig([]string{"--" + f.Name + "=" + zero}, noEnv, io.Discard)
				return err
			},
			{"variable " + env, "--" + f.Name + ": "}: func() error {
				_, err := parseConfig(nil, func(k string) (string, bool) { return zero, k == env }, io.Discard)
				return err
			},
		}
		if !notFileKeys[f.Name] {
			key := fileKey(f.Name)
			tries[source{"file key " + key, path + ":2: " + key + ": "}] = func() error {
				if err := os.WriteFile(path, []byte("# zero\n"+key+": "+zero+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := parseConfig([]string{"--config", path}, noEnv, io.Discard)
				return err
			}
		}
		for src, try := range tries {
			err := try()
			switch {
			case err == nil && !documented:
				t.Errorf("--%s as %s = %s: accepted, but the flag's text does not say what 0 does: %q", f.Name, src.name, zero, f.Usage)
			case err == nil:
				meant++
			case documented:
				t.Errorf("--%s as %s = %s: refused (%v), but the flag's text gives 0 a meaning: %q", f.Name, src.name, zero, err, f.Usage)
			case !strings.HasPrefix(err.Error(), src.wantPrefix) || strings.Contains(err.Error(), "\n"):
				t.Errorf("--%s as %s = %s: error %q, want one problem starting %q", f.Name, src.name, zero, err, src.wantPrefix)
			default:
				refused++
			}
		}
	})
	if refused < 40 || meant < 10 {
		t.Errorf("refused %d and accepted %d zeros: the walk missed the numeric flags", refused, meant)
	}
	// The message says how to get the default, and that keepalive has no off.
	_, err := parseConfig([]string{"--keepalive-time=0"}, noEnv, io.Discard)
	if want := "--keepalive-time: must not be 0: there is no off"; err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "leave it unset for the default 30s") {
		t.Errorf("--keepalive-time=0: %v, want %q ... the default 30s", err, want)
	}
}
