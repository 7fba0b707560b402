package chaos

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// phases are a run's durations: short for `go test`, long for `make chaos`.
type phases struct {
	baseline time.Duration // breaker forced open: the heuristic's own cost
	hold     time.Duration // fault held after the breaker opened
	flapUp   time.Duration // flapping: model reachable
	flapDown time.Duration // flapping: model unreachable
}

func runPhases() phases {
	if *fullRun {
		return phases{baseline: 3 * time.Second, hold: 6 * time.Second, flapUp: 400 * time.Millisecond, flapDown: 600 * time.Millisecond}
	}
	return phases{baseline: time.Second, hold: 1500 * time.Millisecond, flapUp: 250 * time.Millisecond, flapDown: 250 * time.Millisecond}
}

// scenario is one fault: inject starts it, hold keeps it up (nil: just
// wait), clear ends it.
type scenario struct {
	name   string
	inject func(ctx context.Context, e *env) error
	hold   func(ctx context.Context, e *env, ph phases) error
	clear  func(ctx context.Context, e *env) error
	// onlyTimeouts: every failed model call must say MODEL_TIMEOUT (the
	// connection stays up, answers are just too slow).
	onlyTimeouts bool
	// restart: the model server loses its per-series state, so series must
	// warm up again; without it no series may warm up again.
	restart bool
}

func scenarios() []scenario {
	return []scenario{
		{
			name:   "down",
			inject: func(_ context.Context, e *env) error { e.proxy.Stop(); return nil },
			clear:  func(_ context.Context, e *env) error { return e.proxy.Start() },
		},
		{
			// Every byte from the model arrives 4 model deadlines late.
			name:         "latency",
			inject:       addToxic(`{"name": "chaos", "type": "latency", "stream": "downstream", "attributes": {"latency": %d}}`, 4),
			clear:        removeToxic,
			onlyTimeouts: true,
		},
		{
			// The model's connection is reset as soon as it sends anything.
			name:   "reset",
			inject: addToxic(`{"name": "chaos", "type": "reset_peer", "stream": "downstream", "attributes": {"timeout": 0}}`, 0),
			clear:  removeToxic,
		},
		{
			// Answers crawl at 1 KB/s: a response takes longer than the deadline.
			name:         "trickle",
			inject:       addToxic(`{"name": "chaos", "type": "bandwidth", "stream": "downstream", "attributes": {"rate": 1}}`, 0),
			clear:        removeToxic,
			onlyTimeouts: true,
		},
		{
			name:   "flapping",
			inject: func(_ context.Context, e *env) error { e.proxy.Stop(); return nil },
			hold:   flap,
			clear:  func(_ context.Context, e *env) error { return e.proxy.Start() },
		},
		{
			// SIGKILL mid-stream, then a new process on the same port: its
			// per-series state is gone.
			name:    "kill-restart",
			inject:  func(_ context.Context, e *env) error { return e.model.Kill() },
			clear:   func(ctx context.Context, e *env) error { return e.restartModel(ctx) },
			restart: true,
		},
	}
}

// addToxic returns an inject that adds the toxic in json, whose %d (if
// any) is filled with times × the model deadline in milliseconds.
func addToxic(json string, times int) func(context.Context, *env) error {
	return func(_ context.Context, e *env) error {
		body := json
		if strings.Contains(body, "%d") {
			body = fmt.Sprintf(body, times*int(e.cfg.modelTimeout/time.Millisecond))
		}
		if _, err := e.proxy.Toxics.AddToxicJson(strings.NewReader(body)); err != nil {
			return fmt.Errorf("add toxic %s: %w", body, err)
		}
		return nil
	}
}

func removeToxic(ctx context.Context, e *env) error {
	return e.proxy.Toxics.RemoveToxic(ctx, "chaos")
}

// flap brings the model up and down in cycles for ph.hold, ending down.
func flap(ctx context.Context, e *env, ph phases) error {
	end := time.Now().Add(ph.hold)
	for time.Now().Before(end) {
		if err := e.proxy.Start(); err != nil {
			return fmt.Errorf("flap up: %w", err)
		}
		if err := pause(ctx, ph.flapUp); err != nil {
			return err
		}
		e.proxy.Stop()
		if err := pause(ctx, ph.flapDown); err != nil {
			return err
		}
	}
	return nil
}

// pause waits d: the suite runs against real processes and real time, so
// phases are wall-clock lengths, never assertions.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
