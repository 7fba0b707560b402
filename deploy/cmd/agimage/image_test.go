package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestImage builds the image and checks it as `make check-image` does.
func TestImage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "img.tar")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-o", out, "-tag", "astraguard:test", "-check"}, &stdout, &stderr); err != nil {
		t.Fatalf("agimage: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "image check: entrypoint, user, labels and static binaries OK") {
		t.Errorf("agimage output = %q, want the check's verdict", stdout.String())
	}
	runInContainer(t, out)
}

// TestStaticRejectsDynamic: the static check can fail.
func TestStaticRejectsDynamic(t *testing.T) {
	ls, err := exec.LookPath("ls")
	if err != nil {
		t.Skip("no ls to test against")
	}
	body, err := os.ReadFile(ls)
	if err != nil {
		t.Fatal(err)
	}
	if err := static(body); err == nil {
		t.Errorf("static(%s) = nil, want an error for a dynamically linked binary", ls)
	}
	if err := static([]byte("#!/bin/sh\n")); err == nil {
		t.Error("static(shell script) = nil, want an error")
	}
}

// TestDockerfileAgrees: the Dockerfile declares the same contract as the
// daemonless build (entrypoint, user, labels, static build, scratch base).
func TestDockerfileAgrees(t *testing.T) {
	b, err := os.ReadFile("../../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	stages := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(stages) < 2 || stages[len(stages)-1][1] != "scratch" {
		t.Errorf("stages %q: want a multi-stage build ending FROM scratch", stages)
	}
	want := map[string]string{
		`(?m)^ENTRYPOINT\s+(.+)$`: mustJSON([]string{entrypoint}),
		`(?m)^USER\s+(\S+)$`:      user,
	}
	for re, w := range want {
		m := regexp.MustCompile(re).FindStringSubmatch(df)
		if m == nil || strings.TrimSpace(m[1]) != w {
			t.Errorf("Dockerfile %s = %v, want %s", re, m, w)
		}
	}
	if !strings.Contains(df, "CGO_ENABLED=0") {
		t.Error("Dockerfile does not build with CGO_ENABLED=0")
	}
	for _, l := range requiredLabels {
		if !strings.Contains(df, l+"=") {
			t.Errorf("Dockerfile lacks label %s", l)
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return strings.ReplaceAll(string(b), ",", ", ")
}

// runInContainer loads the image into podman or docker, when either is
// installed and works, and runs --version in it with a read-only root.
func runInContainer(t *testing.T, tarPath string) {
	var rt string
	for _, c := range []string{"podman", "docker"} {
		if p, err := exec.LookPath(c); err == nil && exec.Command(p, "info").Run() == nil {
			rt = p
			break
		}
	}
	if rt == "" {
		t.Log("no working container runtime (podman or docker): not running the image")
		return
	}
	if out, err := exec.Command(rt, "load", "-i", tarPath).CombinedOutput(); err != nil {
		t.Fatalf("%s load: %v\n%s", rt, err, out)
	}
	out, err := exec.Command(rt, "run", "--rm", "--read-only", "astraguard:test", "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "astraguard ") {
		t.Errorf("%s run astraguard:test --version = %q, %v", rt, out, err)
	}
}

// TestChartCommandsInImage: every binary the Helm chart's templates run by
// path (the model server's command) is one this image holds, so the chart
// and the one image it runs cannot drift apart.
func TestChartCommandsInImage(t *testing.T) {
	files, err := filepath.Glob("../../helm/astraguard/templates/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("chart templates: %v, %d files", err, len(files))
	}
	re := regexp.MustCompile(`/usr/local/bin/([A-Za-z0-9_.-]+)`)
	var found []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			found = append(found, string(m[1]))
			if !slices.Contains(binaries, string(m[1])) {
				t.Errorf("%s runs /usr/local/bin/%s, which the image does not hold (binaries %q)", filepath.Base(f), m[1], binaries)
			}
		}
	}
	if !slices.Contains(found, "astraguard-model") {
		t.Errorf("chart templates name %q, want the model server's command /usr/local/bin/astraguard-model", found)
	}
}
