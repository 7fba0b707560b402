package version

import (
	"errors"
	"flag"
	"fmt"
	"runtime/debug"
	"strings"
)

// unknown stands for build information the binary does not carry.
const unknown = "unknown"

// Info is what a binary was built from.
type Info struct {
	Version   string // main module version: a tag, a pseudo-version, "(devel)" or "unknown"
	Revision  string // VCS revision (commit hash), or "unknown"
	Time      string // commit time, RFC 3339, or "unknown"
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string // toolchain that built the binary
}

// Get reads the running binary's build information.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: unknown, Revision: unknown, Time: unknown, GoVersion: unknown}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo extracts Info from bi; Get uses it on the running
// binary's information.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	i := Info{Version: bi.Main.Version, Revision: unknown, Time: unknown, GoVersion: bi.GoVersion}
	if i.Version == "" {
		i.Version = unknown
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// NoVCSHint is what String says in place of a revision the build did not
// record: go run, a git worktree, and GOFLAGS=-buildvcs=false (a go env
// setting some machines carry) all build without VCS information.
const NoVCSHint = "revision unknown: built without VCS information (go run, a git worktree, or GOFLAGS=-buildvcs=false); " +
	"make build, or go build -buildvcs=true in a git checkout, records it"

// String renders i on one line for `--version`, e.g.
// "astraguard v1.2.0 (revision 3f2c1d0e9a7b, 2026-11-29T20:59:00Z) go1.26.8";
// a modified work tree adds ", modified". Without a revision it says why
// and how to get one (NoVCSHint).
func (i Info) String(binary string) string {
	var b strings.Builder
	if i.Revision == unknown {
		fmt.Fprintf(&b, "%s %s (%s) %s", binary, i.Version, NoVCSHint, i.GoVersion)
		return b.String()
	}
	fmt.Fprintf(&b, "%s %s (revision %s, %s", binary, i.Version, i.Revision, i.Time)
	if i.Modified {
		b.WriteString(", modified")
	}
	fmt.Fprintf(&b, ") %s", i.GoVersion)
	return b.String()
}

// ErrRequested is what a command's flag parsing returns when -version was
// given, so main prints the version and exits 0 instead of running.
var ErrRequested = errors.New("version requested")

// AddFlag registers the boolean -version flag on fs. The caller checks
// it after fs.Parse and, when set, prints Get().String(name) and exits 0
// before validating anything else.
func AddFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("version", false, "print the version, VCS revision and Go version, then exit")
}
