package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// requiredLabels must be set and non-empty on the image.
var requiredLabels = []string{"org.opencontainers.image.title", "org.opencontainers.image.source",
	"org.opencontainers.image.version", "org.opencontainers.image.revision"}

// checkTarball reads the image at path back and checks its contract: the
// entrypoint, a non-root user, the OCI labels, and that every binary in
// /usr/local/bin is a static executable (no ELF interpreter, nothing to
// link at run time), including the entrypoint.
func checkTarball(path, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	img, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	c := cf.Config
	var errs []error
	if !slices.Equal(c.Entrypoint, []string{entrypoint}) {
		errs = append(errs, fmt.Errorf("entrypoint %q, want [%s]", c.Entrypoint, entrypoint))
	}
	if c.User != user {
		errs = append(errs, fmt.Errorf("user %q, want %s (non-root)", c.User, user))
	}
	for _, l := range requiredLabels {
		if c.Labels[l] == "" {
			errs = append(errs, fmt.Errorf("label %s missing", l))
		}
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	found := map[string]bool{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return err
		}
		err = eachBinary(rc, func(name string, body []byte) error {
			found[name] = true
			return static(body)
		})
		rc.Close()
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, b := range binaries {
		if !found["/usr/local/bin/"+b] {
			errs = append(errs, fmt.Errorf("/usr/local/bin/%s missing from the image", b))
		}
	}
	return errors.Join(errs...)
}

// eachBinary calls f for every regular file under usr/local/bin/ in the
// layer tar, with its absolute path.
func eachBinary(r io.Reader, f func(name string, body []byte) error) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(h.Name, "usr/local/bin/") {
			continue
		}
		if h.Mode&0o111 == 0 {
			return fmt.Errorf("/%s is not executable", h.Name)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := f("/"+h.Name, body); err != nil {
			return fmt.Errorf("/%s: %w", h.Name, err)
		}
	}
}

// static reports an error unless body is an ELF executable with no
// program interpreter and no dynamic section.
func static(body []byte) error {
	ef, err := elf.NewFile(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not an ELF executable: %w", err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return errors.New("dynamically linked (build with CGO_ENABLED=0)")
		}
	}
	return nil
}
