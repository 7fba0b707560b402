package version

import (
	"flag"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want Info
	}{
		{
			name: "tagged clean build",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "3f2c1d0e"}, {Key: "vcs.time", Value: "2026-11-29T20:59:00Z"}, {Key: "vcs.modified", Value: "false"},
			}},
			want: Info{Version: "v1.2.0", Revision: "3f2c1d0e", Time: "2026-11-29T20:59:00Z", GoVersion: "go1.26.8"},
		},
		{
			name: "modified checkout",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"},
			}},
			want: Info{Version: "(devel)", Revision: "abc", Time: unknown, Modified: true, GoVersion: "go1.26.8"},
		},
		{
			name: "built with -buildvcs=false",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8"},
			want: Info{Version: unknown, Revision: unknown, Time: unknown, GoVersion: "go1.26.8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromBuildInfo(tt.bi); got != tt.want {
				t.Errorf("FromBuildInfo() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	i := Info{Version: "v1.2.0", Revision: "3f2c", Time: "2026-11-29T20:59:00Z", Modified: true, GoVersion: "go1.26.8"}
	want := "astraguard v1.2.0 (revision 3f2c, 2026-11-29T20:59:00Z, modified) go1.26.8"
	if got := i.String("astraguard"); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	i.Modified = false
	if got := i.String("agctl"); strings.Contains(got, "modified") {
		t.Errorf("String() of a clean build = %q, says modified", got)
	}
	// A plain go build on a machine with GOFLAGS=-buildvcs=false: say why
	// there is no revision and how to get one.
	devel := FromBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}})
	want = "astraguard (devel) (" + NoVCSHint + ") go1.26.8"
	if got := devel.String("astraguard"); got != want || !strings.Contains(got, "-buildvcs=true") {
		t.Errorf("String() without VCS information = %q, want %q", got, want)
	}
}

// TestGet checks the test binary's own build information is read: the
// Go version is always recorded.
func TestGet(t *testing.T) {
	if got := Get(); !strings.HasPrefix(got.GoVersion, "go") {
		t.Errorf("Get().GoVersion = %q, want a go version", got.GoVersion)
	}
}

func TestAddFlag(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	v := AddFlag(fs)
	if err := fs.Parse([]string{"--version"}); err != nil || !*v {
		t.Errorf("Parse(--version) = %v, flag %v; want nil, true", err, *v)
	}
}
