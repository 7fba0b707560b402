package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/server"
)

// pacedSetting is a duration that drives a ticker, a timer loop or a
// retry, with its lower and upper bound; zeroOK: 0 has a documented
// meaning (every other 0 is refused, see TestZeroIsMeantOrRefused).
type pacedSetting struct {
	key      string // file key; "": none
	flag     string // "": none (a breakers key)
	min, max time.Duration
	zeroOK   bool
}

// pacedSettings lists every such setting of the service (README, docs/
// configuration.md): each has a lower bound, so none can be made a busy
// loop, and an upper one where arithmetic on it could overflow.
var pacedSettings = []pacedSetting{
	{key: "checkpoint_interval", flag: "checkpoint-interval", min: checkpoint.MinInterval, max: 1<<63 - 1},
	{key: "keepalive_time", flag: "keepalive-time", min: connlimit.MinKeepalive, max: server.MaxDuration},
	{key: "keepalive_timeout", flag: "keepalive-timeout", min: connlimit.MinKeepalive, max: server.MaxDuration},
	{key: "keepalive_min_time", flag: "keepalive-min-time", min: connlimit.MinKeepalive, max: server.MaxDuration},
	{key: "max_connection_idle", flag: "max-connection-idle", min: connlimit.MinKeepalive, max: server.MaxDuration},
	{flag: "recovery-timeout", // not a file key: breakers.model.recovery_timeout is; 0 keeps the preset's
		min: breaker.MinDuration, max: breaker.MaxDuration, zeroOK: true},
	{key: "breakers.model.recovery_timeout", min: breaker.MinDuration, max: breaker.MaxDuration},
	// At least --model-timeout (default 100ms): a probe is a model call.
	{key: "breakers.model.probe_timeout", min: detector.DefaultConfig().ModelTimeout, max: breaker.MaxDuration},
	{key: "breakers.model.backoff.max", min: breaker.MinDuration, max: breaker.MaxDuration},
}

// fileText is a config file setting key to v, and the line v is on.
func (s pacedSetting) fileText(v time.Duration) (string, int) {
	parts := strings.Split(s.key, ".")
	var b strings.Builder
	b.WriteString("# bounds\n")
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", i) + p + ":")
		if i == len(parts)-1 {
			fmt.Fprintf(&b, " %s", v)
		}
		b.WriteString("\n")
	}
	return b.String(), len(parts) + 1
}

// TestPacedDurationBounds: every duration that paces a loop or a retry
// is refused below its bound at 1ns, 0 (unless 0 takes a default), -1ns
// and one nanosecond under the bound, and above its upper bound; the
// bounds themselves are accepted. Each refusal is one problem naming the
// flag, or the file, line and key, from --check-config.
func TestPacedDurationBounds(t *testing.T) {
	dir := t.TempDir()
	for _, s := range pacedSettings {
		cases := []struct {
			v  time.Duration
			ok bool
		}{
			{time.Nanosecond, false}, {0, s.zeroOK}, {-time.Nanosecond, false},
			{s.min - time.Nanosecond, false}, {s.min, true}, {s.max, true},
		}
		if s.max < 1<<63-1 {
			cases = append(cases, struct {
				v  time.Duration
				ok bool
			}{s.max + time.Nanosecond, false})
		}
		for _, c := range cases {
			if s.flag != "" {
				err := run(t.Context(), []string{"--check-config", fmt.Sprintf("--%s=%s", s.flag, c.v)}, io.Discard)
				checkBoundErr(t, fmt.Sprintf("--%s=%v", s.flag, c.v), err, c.ok, "--"+s.flag+": ")
			}
			if s.key != "" {
				path := filepath.Join(dir, "bounds.yaml")
				text, line := s.fileText(c.v)
				writeFile(t, path, text)
				err := run(t.Context(), []string{"--check-config", "--config", path}, io.Discard)
				checkBoundErr(t, fmt.Sprintf("%s: %v", s.key, c.v), err, c.ok, fmt.Sprintf("%s:%d: %s: ", path, line, s.key))
			}
		}
	}
}

func checkBoundErr(t *testing.T, what string, err error, ok bool, prefix string) {
	t.Helper()
	switch {
	case ok && err != nil:
		t.Errorf("%s: --check-config = %v, want valid", what, err)
	case !ok && (err == nil || !strings.HasPrefix(err.Error(), prefix) || strings.Contains(err.Error(), "\n")):
		t.Errorf("%s: --check-config = %v, want one problem starting %q", what, err, prefix)
	}
}

// TestStartRefusesBusyCheckpoints: start-up, not only --check-config,
// refuses --checkpoint-interval 1ns (it was accepted and made a busy loop
// writing checkpoints) before anything listens.
func TestStartRefusesBusyCheckpoints(t *testing.T) {
	err := run(t.Context(), []string{"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--state-dir", t.TempDir(), "--checkpoint-interval=1ns"}, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "--checkpoint-interval: 1ns below the minimum 1s") {
		t.Errorf("run(--checkpoint-interval=1ns) = %v, want refused by name", err)
	}
}

// TestReloadRefusesBusyRetries: a reload (POST /-/reload) of the model
// breaker's recovery wait at 1ns is refused naming key and line, and the
// running breaker keeps its last good settings.
func TestReloadRefusesBusyRetries(t *testing.T) {
	path, ctx, _, addrs, finish := startConfigRun(t, "breakers:\n  model:\n    recovery_timeout: 30s\n")
	writeFile(t, path, "breakers:\n  model:\n    recovery_timeout: 1ns\n")
	code, res := postReload(t, addrs.HTTP)
	if code != http.StatusBadRequest || res.Success || !strings.Contains(res.Error, path+":3: breakers.model.recovery_timeout: 1ns below the minimum 1ms") {
		t.Errorf("POST /-/reload of recovery_timeout 1ns = %d %+v, want 400 naming key and line", code, res)
	}
	resp, err := astraguardv1.NewBreakerAdminClient(dialRun(t, addrs.GRPC)).GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: "model"})
	if got := resp.GetBreaker().GetSettings().GetRecoveryTimeout().AsDuration(); err != nil || got != 30*time.Second {
		t.Errorf("GetBreaker after the refused reload = %v, %v; want the last good recovery timeout, 30s", got, err)
	}
	finish()
}

// TestDurationDefaultsFromComponents: the grace period, the checkpoint
// interval and the connection idle bound default to the values their
// components state once (astraguard-model's TestParseConfig checks the
// same constants), not to copies written in the command.
func TestDurationDefaultsFromComponents(t *testing.T) {
	cfg, err := parseConfig(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		flag      string
		got, want time.Duration
	}{
		{"grace-period", cfg.gracePeriod, connlimit.DefaultGracePeriod},
		{"checkpoint-interval", cfg.checkpointInterval, checkpoint.DefaultInterval},
		{"max-connection-idle", cfg.limits.MaxConnectionIdle, connlimit.DefaultMaxConnectionIdle},
	} {
		if c.got != c.want {
			t.Errorf("--%s defaults to %v, want %v", c.flag, c.got, c.want)
		}
	}
}
