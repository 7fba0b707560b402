package server

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/checkpoint"
)

// clockStart is the fake clocks' first reading; the detector's default
// --max-clock-skew applies.
var clockStart = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

const skew = detector.DefaultMaxClockSkew

// clockEnv is the real server on 127.0.0.1 around a detector whose wall
// clock the test sets, forward and back.
type clockEnv struct {
	clock  *clock
	det    *detector.Detector
	reg    *prometheus.Registry
	client astraguardv1.DetectorServiceClient
}

func newClockEnv(t *testing.T, at time.Time, opts ...detector.Option) *clockEnv {
	t.Helper()
	e := &clockEnv{clock: &clock{t: at}, reg: prometheus.NewRegistry()}
	breakers, err := breaker.NewRegistry(strict)
	if err != nil {
		t.Fatal(err)
	}
	e.det, err = detector.New(&fakeModel{}, breakers.Breaker("model"), detector.Config{},
		append([]detector.Option{detector.WithClock(e.clock), detector.WithRegisterer(e.reg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.client, _ = newTCPEnv(t, Config{}, tcpOptions{scorer: e.det}).client(t)
	return e
}

// set moves the wall clock to at, forward or back.
func (c *clock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = at
}

// send sends one sample of series id, stamped by the server or, with
// client, by the client at the shared clock's reading, and returns its
// verdict.
func (e *clockEnv) send(t *testing.T, id string, client bool) *astraguardv1.Verdict {
	t.Helper()
	s := &astraguardv1.SeriesSamples{SeriesId: id, Values: []float64{1}}
	if client {
		s.UnixNanos = []int64{e.clock.Now().UnixNano()}
	}
	resp, err := e.client.DetectBatch(t.Context(), &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{s}})
	if err != nil {
		t.Fatalf("DetectBatch(%s) = %v", id, err)
	}
	return resp.GetVerdicts()[0]
}

// lockout sends a sample of id every second of the fake clock until one is
// accepted and returns how long the series refused them as out of order.
func (e *clockEnv) lockout(t *testing.T, id string, client bool) time.Duration {
	t.Helper()
	const bound = 3 * time.Hour
	for waited := time.Duration(0); waited <= bound; waited += time.Second {
		v := e.send(t, id, client)
		switch code := v.GetError().GetCode(); code {
		case astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_UNSPECIFIED:
			return waited
		case astraguardv1.SampleErrorCode_SAMPLE_ERROR_CODE_OUT_OF_ORDER:
		default:
			t.Fatalf("series %s after %v: %v, want it accepted or OUT_OF_ORDER", id, waited, code)
		}
		e.clock.Advance(time.Second)
	}
	t.Fatalf("series %s still refused after %v", id, bound)
	return 0
}

func (e *clockEnv) pulledBack(t *testing.T) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "astraguard_series_watermarks_pulled_back_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no astraguard_series_watermarks_pulled_back_total")
	return 0
}

// TestClockStepBackKeepsSeriesOpen: the server's wall clock steps an hour
// forward and back (an NTP step, a VM resumed). Server-stamped samples go
// on being accepted, their stamps never going back; a client stamping with
// the same clock is refused for at most --max-clock-skew, not the hour, and
// the watermark pulled back is counted.
func TestClockStepBackKeepsSeriesOpen(t *testing.T) {
	e := newClockEnv(t, clockStart)
	const srv, cli = "sat1/server-stamped", "sat1/client-stamped"
	var last int64
	for _, at := range []time.Time{clockStart, clockStart.Add(time.Hour)} {
		e.clock.set(at)
		v := e.send(t, srv, false)
		if v.GetError() != nil || v.GetUnixNanos() != at.UnixNano() {
			t.Fatalf("server-stamped sample at %v: %v, want accepted with that stamp", at, v)
		}
		last = v.GetUnixNanos()
		if v := e.send(t, cli, true); v.GetError() != nil {
			t.Fatalf("client-stamped sample at %v: %v, want accepted", at, v)
		}
	}

	e.clock.set(clockStart.Add(time.Second)) // back by an hour
	for i := range 5 {
		v := e.send(t, srv, false)
		if v.GetError() != nil || v.GetUnixNanos() < last {
			t.Errorf("server-stamped sample %d after the step back: %v, want accepted, stamped no earlier than %d", i, v, last)
			break
		}
		last = v.GetUnixNanos()
		e.clock.Advance(time.Second)
	}
	got := e.lockout(t, cli, true)
	t.Logf("client-stamped series refused for %v after the clock stepped back an hour", got)
	if got > skew {
		t.Errorf("client-stamped series refused for %v after the step back, want at most --max-clock-skew %v", got, skew)
	}
	if n := e.pulledBack(t); n != 1 {
		t.Errorf("astraguard_series_watermarks_pulled_back_total = %v, want 1 (the client-stamped series)", n)
	}
}

// TestWatermarkAheadIsPulledBack: series state written by a replica whose
// clock ran an hour fast, restored from --state-dir or adopted from
// --handover-dir, does not lock its series out for that hour: server-stamped
// samples are accepted at once, client-stamped ones within
// --max-clock-skew, and each watermark pulled back is counted once.
func TestWatermarkAheadIsPulledBack(t *testing.T) {
	const srv, cli = "sat2/server-stamped", "sat2/client-stamped"
	for _, how := range []string{"restored", "adopted"} {
		t.Run(how, func(t *testing.T) {
			fast := newClockEnv(t, clockStart.Add(time.Hour))
			for _, client := range []bool{false, true} {
				if v := fast.send(t, map[bool]string{false: srv, true: cli}[client], client); v.GetError() != nil {
					t.Fatalf("fast replica: %v, want accepted", v)
				}
			}
			dir := t.TempDir()
			sig := fast.det.StateSignature()
			saver, err := checkpoint.New(dir, "fast.snap", sig)
			if err != nil {
				t.Fatal(err)
			}
			saver.Add("series", fast.det.StatePart())
			if err := saver.Save(t.Context()); err != nil {
				t.Fatal(err)
			}

			for _, client := range []bool{false, true} {
				id := map[bool]string{false: srv, true: cli}[client]
				var e *clockEnv
				switch how {
				case "restored":
					e = newClockEnv(t, clockStart)
					k, err := checkpoint.New(dir, "fast.snap", sig)
					if err != nil {
						t.Fatal(err)
					}
					k.Add("series", e.det.StatePart())
					k.Restore(t.Context())
					if st := k.Stats(); st.Restored != 2 {
						t.Fatalf("restore: %+v, want both series loaded", st)
					}
				case "adopted":
					x := checkpoint.NewIndex(dir, "self.snap", sig, "series", 0, 10)
					x.Scan(t.Context())
					e = newClockEnv(t, clockStart, detector.WithAdopter(x))
				}
				got := e.lockout(t, id, client)
				t.Logf("%s series an hour ahead: %s refused for %v", how, id, got)
				if want := map[bool]time.Duration{false: 0, true: skew}[client]; got > want {
					t.Errorf("%s refused for %v, want at most %v", id, got, want)
				}
				if n := e.pulledBack(t); n != 1 {
					t.Errorf("astraguard_series_watermarks_pulled_back_total = %v, want 1", n)
				}
			}
		})
	}
}
