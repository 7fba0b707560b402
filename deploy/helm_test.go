package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const chartDir = "helm/astraguard"

// helmBinary finds helm: $HELM, the repository's bin/ (make installs it
// there) or PATH. Without it the test skips, except under CI=true.
func helmBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("HELM"), "../bin/helm"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				abs, _ := filepath.Abs(p)
				return abs
			}
		}
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("helm not found and CI=true: run `make helm` (installs bin/helm)")
	}
	t.Skip("helm not found: run `make helm` to install bin/helm (CI=true makes this a failure)")
	return ""
}

// manifests is one rendering, decoded strictly.
type manifests struct {
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	pdbs            map[string]*policyv1.PodDisruptionBudget
	serviceMonitors map[string]*monitoringv1.ServiceMonitor
}

// render runs helm template with the --set values and decodes every
// document strictly into its Kubernetes API type, so a misspelt or
// misplaced field fails.
func render(t *testing.T, set ...string) manifests {
	t.Helper()
	args := []string{"template", "ag", chartDir, "--namespace", "telemetry"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	m := manifests{map[string]*appsv1.Deployment{}, map[string]*corev1.Service{}, map[string]*corev1.ConfigMap{},
		map[string]*policyv1.PodDisruptionBudget{}, map[string]*monitoringv1.ServiceMonitor{}}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("document %q: %v", doc, err)
		}
		if meta.Kind == "" { // a document holding only comments
			continue
		}
		name, err := decodeInto(m, meta.Kind, doc)
		if err != nil {
			t.Fatalf("%s: %v\n%s", meta.Kind, err, doc)
		}
		if name == "" {
			t.Errorf("%s without a name", meta.Kind)
		}
	}
	return m
}

func decodeInto(m manifests, kind string, doc []byte) (string, error) {
	strict := func(v any) error { return yaml.UnmarshalStrict(doc, v) }
	switch kind {
	case "Deployment":
		var d appsv1.Deployment
		err := strict(&d)
		m.deployments[d.Name] = &d
		return d.Name, err
	case "Service":
		var s corev1.Service
		err := strict(&s)
		m.services[s.Name] = &s
		return s.Name, err
	case "ConfigMap":
		var c corev1.ConfigMap
		err := strict(&c)
		m.configMaps[c.Name] = &c
		return c.Name, err
	case "PodDisruptionBudget":
		var p policyv1.PodDisruptionBudget
		err := strict(&p)
		m.pdbs[p.Name] = &p
		return p.Name, err
	case "ServiceMonitor":
		var s monitoringv1.ServiceMonitor
		err := strict(&s)
		m.serviceMonitors[s.Name] = &s
		return s.Name, err
	}
	return "", fmt.Errorf("unexpected kind %q: teach the test to decode it", kind)
}

func TestHelmLint(t *testing.T) {
	for _, set := range [][]string{nil, {"model.enabled=true", "state.existingClaim=ag-state", "replicaCount=1"}} {
		args := []string{"lint", "--strict", chartDir}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		if out, err := exec.Command(helmBinary(t), args...).CombinedOutput(); err != nil {
			t.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestHelmDefaults(t *testing.T) {
	m := render(t)
	d := m.deployments["ag-astraguard"]
	if d == nil || len(m.deployments) != 1 {
		t.Fatalf("deployments = %v, want only ag-astraguard (model server off by default)", keys(m.deployments))
	}
	spec := d.Spec.Template.Spec
	c := spec.Containers[0]
	for _, want := range []string{"--config=/etc/astraguard/config.yaml", "--state-dir=/var/lib/astraguard", "--grpc-addr=:50051", "--http-addr=:8080"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args %q lack %q", c.Args, want)
		}
	}
	if slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--model-addr") }) {
		t.Errorf("args %q name a model server while model.enabled=false", c.Args)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.GRPC == nil || p.GRPC.Port != 50051 {
			t.Errorf("%s probe = %+v, want a native gRPC probe on 50051", name, p)
		}
	}
	sc, psc := c.SecurityContext, spec.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container securityContext = %+v, want a read-only root and no privilege escalation", sc)
	}
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod securityContext = %+v, want non-root", psc)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("resource requests = %v, want cpu and memory", c.Resources.Requests)
	}
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.Name] = vm.MountPath
	}
	if mounts["config"] != "/etc/astraguard" || mounts["state"] != "/var/lib/astraguard" {
		t.Errorf("volume mounts = %v, want config at /etc/astraguard and state at /var/lib/astraguard", mounts)
	}
	cm := m.configMaps["ag-astraguard"]
	if cm == nil || cm.Data["config.yaml"] == "" {
		t.Errorf("ConfigMap ag-astraguard = %+v, want a config.yaml key", cm)
	}
	if m.pdbs["ag-astraguard"] == nil || m.serviceMonitors["ag-astraguard"] == nil || m.services["ag-astraguard"] == nil {
		t.Errorf("want a Service, PodDisruptionBudget and ServiceMonitor; got %v %v %v", keys(m.services), keys(m.pdbs), keys(m.serviceMonitors))
	}
	if sm := m.serviceMonitors["ag-astraguard"]; sm != nil && (len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http") {
		t.Errorf("ServiceMonitor endpoints = %+v, want the http port", sm.Spec.Endpoints)
	}
}

func TestHelmModelServerAndClaim(t *testing.T) {
	m := render(t, "model.enabled=true", "state.existingClaim=ag-state", "replicaCount=1",
		`config.breaker.preset=strict`, "serviceMonitor.enabled=false")
	d, md := m.deployments["ag-astraguard"], m.deployments["ag-astraguard-model"]
	if d == nil || md == nil {
		t.Fatalf("deployments = %v, want the service and the model server", keys(m.deployments))
	}
	if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--model-addr=ag-astraguard-model:8001") {
		t.Errorf("service args %q do not point at the model Service", d.Spec.Template.Spec.Containers[0].Args)
	}
	// One image holds both binaries; its entrypoint is the service, so the
	// model container must name the model server (deploy/cmd/agimage checks
	// the image holds it).
	mc, sc := md.Spec.Template.Spec.Containers[0], d.Spec.Template.Spec.Containers[0]
	if !slices.Equal(mc.Command, []string{"/usr/local/bin/astraguard-model"}) {
		t.Errorf("model container command = %q, want [/usr/local/bin/astraguard-model]", mc.Command)
	}
	if mc.Image != sc.Image {
		t.Errorf("model image %q, want the service's %q (the project builds one image)", mc.Image, sc.Image)
	}
	if s := m.services["ag-astraguard-model"]; s == nil || s.Spec.Ports[0].Port != 8001 {
		t.Errorf("model Service = %+v, want port 8001", s)
	}
	var claim string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "state" && v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "ag-state" {
		t.Errorf("state volume claim = %q, want ag-state", claim)
	}
	if got := m.configMaps["ag-astraguard"].Data["config.yaml"]; !strings.Contains(got, "preset: strict") {
		t.Errorf("config.yaml = %q, want the values' config", got)
	}
	if len(m.serviceMonitors) != 0 {
		t.Errorf("ServiceMonitors %v rendered while disabled", keys(m.serviceMonitors))
	}
}

// TestHelmConnectionLimits: the connections values of the service and of
// the model server become their connection-limit flags; unset ones render
// nothing (the binary's default holds), 0 renders as 0 (for the binary to
// accept or refuse by name, never dropped) and a large number as an
// integer.
func TestHelmConnectionLimits(t *testing.T) {
	isLimit := func(a string) bool {
		return strings.HasPrefix(a, "--max-connection") || strings.HasPrefix(a, "--max-concurrent-streams")
	}
	m := render(t, "model.enabled=true")
	for name, d := range m.deployments {
		if args := d.Spec.Template.Spec.Containers[0].Args; slices.ContainsFunc(args, isLimit) {
			t.Errorf("%s: args %q set connection limits by default", name, args)
		}
	}
	m = render(t, "model.enabled=true", "connections.max=1000000", "connections.maxPerClient=0", "connections.maxIdle=10m",
		"connections.maxConcurrentStreams=2048", "model.connections.max=500", "model.connections.maxIdle=1h",
		"model.connections.maxConcurrentStreams=64")
	for name, want := range map[string][]string{
		"ag-astraguard":       {"--max-connections=1000000", "--max-connection-idle=10m", "--max-connections-per-client=0", "--max-concurrent-streams=2048"},
		"ag-astraguard-model": {"--max-connections=500", "--max-connection-idle=1h", "--max-concurrent-streams=64"},
	} {
		d := m.deployments[name]
		if d == nil {
			t.Fatalf("no deployment %s: %v", name, keys(m.deployments))
		}
		args := d.Spec.Template.Spec.Containers[0].Args
		var got []string
		for _, a := range args {
			if isLimit(a) {
				got = append(got, a)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: connection flags %q, want %q", name, got, want)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestHelmModelServerFlags: every flag of astraguard-model (the generated
// table in docs/configuration.md, which TestConfigurationDoc checks
// against the binary) is rendered from a chart value, or is named here
// with the reason the chart leaves it to model.extraArgs. The model
// server has no configuration file, so a flag without a value could be
// set only through extraArgs, unnoticed.
func TestHelmModelServerFlags(t *testing.T) {
	notValues := map[string]string{
		"version":             "prints the version and exits",
		"state-dir":           "needs a volume the chart does not mount for the model server",
		"checkpoint-interval": "only matters with --state-dir",
		"tls-cert":            "needs certificate files the chart does not mount",
		"tls-key":             "needs certificate files the chart does not mount",
		"tls-client-ca":       "needs certificate files the chart does not mount",
	}
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "<!-- generated: astraguard-model-flags -->")
	table, _, ok2 := strings.Cut(table, "<!-- end generated -->")
	if !ok || !ok2 {
		t.Fatal("docs/configuration.md has no generated astraguard-model-flags table")
	}
	var flags []string
	for line := range strings.SplitSeq(table, "\n") {
		if f, ok := strings.CutPrefix(line, "| `--"); ok {
			flags = append(flags, strings.FieldsFunc(f, func(r rune) bool { return r == ' ' || r == '`' })[0])
		}
	}
	if len(flags) < 10 {
		t.Fatalf("read %d flags from the table (%q); the table's layout changed", len(flags), flags)
	}
	m := render(t, "model.enabled=true", "model.seriesTTL=12h", "model.logLevel=debug",
		"model.connections.max=500", "model.connections.maxPerClient=10", "model.connections.maxIdle=1h",
		"model.connections.maxConcurrentStreams=256", "model.extraArgs[0]=--max-series=7")
	md := m.deployments["ag-astraguard-model"]
	if md == nil {
		t.Fatalf("no model deployment: %v", keys(m.deployments))
	}
	args := md.Spec.Template.Spec.Containers[0].Args
	for _, f := range flags {
		rendered := slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--"+f+"=") })
		if _, skip := notValues[f]; rendered == skip {
			t.Errorf("astraguard-model --%s: rendered %v from values %q; every flag has a chart value unless listed with a reason", f, rendered, args)
		}
	}
	for _, want := range []string{"--series-ttl=12h", "--log-level=debug", "--max-concurrent-streams=256"} {
		if !slices.Contains(args, want) {
			t.Errorf("model args %q lack %q", args, want)
		}
	}
	if args[len(args)-1] != "--max-series=7" {
		t.Errorf("model args %q: extraArgs do not come last", args)
	}
}
