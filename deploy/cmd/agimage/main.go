// Command agimage builds AstraGuard's container image without a Docker
// daemon or a registry: it cross-compiles static (CGO_ENABLED=0) binaries
// of astraguard, astraguard-model and agctl from the work tree, puts them
// in one layer on an empty base (like FROM scratch) with a passwd entry
// for the non-root user, CA certificates and the state directory, sets the
// entrypoint, user and OCI labels, and writes a tarball that `docker
// load`, `podman load` or `crane push` accept. It is the daemonless twin
// of the repository's Dockerfile, and -check verifies what it wrote.
//
//	go run ./cmd/agimage -o ../dist/astraguard-image.tar -check
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "agimage:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("agimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "o", "../dist/astraguard-image.tar", "tarball to write")
	fs.StringVar(&o.tag, "tag", "astraguard:dev", "image reference recorded in the tarball")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "target architecture (linux only)")
	fs.StringVar(&o.version, "version", "dev", "org.opencontainers.image.version label")
	check := fs.Bool("check", false, "read the tarball back and check entrypoint, user, labels and static binaries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	img, err := build(o)
	if err != nil {
		return err
	}
	if err := write(o, img); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", o.out, o.tag)
	if *check {
		if err := checkTarball(o.out, o.tag); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "image check: entrypoint, user, labels and static binaries OK")
	}
	return nil
}
