package envflag

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func lookup(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func newFlags() (*flag.FlagSet, *string, *time.Duration, *int) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("grpc-addr", ":1", "")
	d := fs.Duration("model-timeout", time.Second, "")
	n := fs.Int("model-name-len", 1, "")
	fs.Bool("version", false, "")
	return fs, addr, d, n
}

func TestApply(t *testing.T) {
	b := Binding{Prefix: "AG_", Skip: []string{"version"}, Aliases: map[string]string{"model-name-len": "AG_OLD"}}
	fs, addr, d, n := newFlags()
	set, err := b.Apply(fs, lookup(map[string]string{"AG_GRPC_ADDR": "", "AG_MODEL_TIMEOUT": "3s", "AG_OLD": "7", "AG_VERSION": "1.2.3"}))
	if err != nil {
		t.Fatal(err)
	}
	if *addr != "" || *d != 3*time.Second || *n != 7 {
		t.Errorf("flags = %q %v %d, want \"\" (set empty), 3s, 7 (alias)", *addr, *d, *n)
	}
	if want := map[string]bool{"grpc-addr": true, "model-timeout": true, "model-name-len": true}; !cmp.Equal(set, want) {
		t.Errorf("set = %v, want %v (version is skipped)", set, want)
	}
	if err := fs.Parse([]string{"--model-timeout=5s"}); err != nil || *d != 5*time.Second {
		t.Errorf("command line after Apply: %v, %v; want 5s (the command line wins)", err, *d)
	}
}

func TestApplyDerivedNameWinsOverAlias(t *testing.T) {
	b := Binding{Prefix: "AG_", Aliases: map[string]string{"model-name-len": "AG_OLD"}}
	fs, _, _, n := newFlags()
	if _, err := b.Apply(fs, lookup(map[string]string{"AG_OLD": "7", "AG_MODEL_NAME_LEN": "9"})); err != nil || *n != 9 {
		t.Errorf("Apply = %v, n = %d; want 9 from AG_MODEL_NAME_LEN", err, *n)
	}
}

func TestApplyBadValue(t *testing.T) {
	fs, _, _, _ := newFlags()
	_, err := Binding{Prefix: "AG_"}.Apply(fs, lookup(map[string]string{"AG_MODEL_TIMEOUT": "soon"}))
	if err == nil || !strings.Contains(err.Error(), "AG_MODEL_TIMEOUT") {
		t.Errorf("Apply = %v, want an error naming AG_MODEL_TIMEOUT", err)
	}
}

func TestVariables(t *testing.T) {
	fs, _, _, _ := newFlags()
	got := Binding{Prefix: "AG_", Skip: []string{"version"}}.Variables(fs)
	want := map[string]string{"grpc-addr": "AG_GRPC_ADDR", "model-timeout": "AG_MODEL_TIMEOUT", "model-name-len": "AG_MODEL_NAME_LEN"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Variables (-want +got):\n%s", d)
	}
}
