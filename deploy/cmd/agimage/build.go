package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image's contract, also spelled out in the Dockerfile (checked to
// agree by TestDockerfileAgrees).
const (
	entrypoint = "/usr/local/bin/astraguard"
	user       = "65532:65532"
	stateDir   = "var/lib/astraguard"
	caBundle   = "/etc/ssl/certs/ca-certificates.crt"
)

// binaries are built into /usr/local/bin.
var binaries = []string{"astraguard", "astraguard-model", "agctl"}

type options struct {
	out, tag, arch, version string
}

// labels are the OCI annotations every image carries.
func labels(version, revision string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "astraguard",
		"org.opencontainers.image.description": "AstraGuard anomaly-detection gRPC service with a circuit-broken model client",
		"org.opencontainers.image.source":      "https://github.com/astraguard/astraguard",
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.revision":    revision,
	}
}

func build(o options) (v1.Image, error) {
	root, err := mainModuleDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "agimage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	args := []string{"build", "-C", root, "-trimpath", "-buildvcs=auto", "-ldflags=-s -w", "-o", dir + "/"}
	for _, b := range binaries {
		args = append(args, "./cmd/"+b)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.arch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	layer, err := rootfsLayer(dir)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", o.arch
	cf.Config = v1.Config{
		Entrypoint:   []string{entrypoint},
		User:         user,
		WorkingDir:   "/",
		Env:          []string{"PATH=/usr/local/bin"},
		ExposedPorts: map[string]struct{}{"50051/tcp": {}, "8080/tcp": {}},
		Labels:       labels(o.version, gitRevision(root)),
		Volumes:      map[string]struct{}{"/" + stateDir: {}},
	}
	return mutate.ConfigFile(img, cf)
}

func write(o options, img v1.Image) error {
	tag, err := name.NewTag(o.tag)
	if err != nil {
		return fmt.Errorf("-tag: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	return tarball.WriteToFile(o.out, tag, img)
}

// rootfsLayer is the image's only layer: the binaries from dir, a passwd
// and group naming the non-root user, CA certificates when the build host
// has them (for TLS to a model server), /tmp, and the state directory
// owned by the non-root user. Every entry carries a fixed time so the
// layer is reproducible.
func rootfsLayer(dir string) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	add := func(h *tar.Header, body []byte) error {
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	dirs := []*tar.Header{
		{Name: "etc/", Mode: 0o755}, {Name: "etc/ssl/", Mode: 0o755}, {Name: "etc/ssl/certs/", Mode: 0o755},
		{Name: "tmp/", Mode: 0o1777}, {Name: "usr/", Mode: 0o755}, {Name: "usr/local/", Mode: 0o755},
		{Name: "usr/local/bin/", Mode: 0o755}, {Name: "var/", Mode: 0o755}, {Name: "var/lib/", Mode: 0o755},
		{Name: stateDir + "/", Mode: 0o700, Uid: 65532, Gid: 65532},
	}
	for _, h := range dirs {
		h.Typeflag = tar.TypeDir
		if err := add(h, nil); err != nil {
			return nil, err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/" + stateDir + ":/sbin/nologin\n",
		"etc/group":  "root:x:0:\nnonroot:x:65532:\n",
	}
	for _, n := range []string{"etc/group", "etc/passwd"} {
		if err := add(&tar.Header{Name: n, Mode: 0o644, Typeflag: tar.TypeReg}, []byte(files[n])); err != nil {
			return nil, err
		}
	}
	if ca, err := os.ReadFile(caBundle); err == nil {
		if err := add(&tar.Header{Name: strings.TrimPrefix(caBundle, "/"), Mode: 0o644, Typeflag: tar.TypeReg}, ca); err != nil {
			return nil, err
		}
	}
	for _, b := range binaries {
		body, err := os.ReadFile(filepath.Join(dir, b))
		if err != nil {
			return nil, err
		}
		if err := add(&tar.Header{Name: "usr/local/bin/" + b, Mode: 0o755, Typeflag: tar.TypeReg}, body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}

func mainModuleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/astraguard/astraguard").Output()
	if err != nil {
		return "", fmt.Errorf("locate the main module: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// gitRevision labels the image with the commit, or "unknown" outside a
// checkout.
func gitRevision(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
