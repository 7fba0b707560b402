package server

import (
	"testing"
	"time"

	"github.com/astraguard/astraguard/breaker"
	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/model"
)

// TestScorePathDoesNotAllocate scores requests through the server's
// conversion and the real detector with the embedded model, as a Detect
// stream does minus the network, and counts allocations per request in
// steady state: none for stamped series, unstamped series, and frames.
// `make test` runs it without -race (see raceEnabled).
func TestScorePathDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under -race; make test runs this test without it")
	}
	tmpl, err := model.NewTemplate(model.Config{})
	if err != nil {
		t.Fatal(err)
	}
	breakers, err := breaker.NewRegistry(breaker.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	det, err := detector.NewEmbedded(tmpl, breakers.Breaker("model"), detector.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewDetectorService(det, 0)
	next := time.Now().Add(-time.Hour).UnixNano() // sample times, one millisecond apart
	stamp := func(ts []int64) {
		for i := range ts {
			next += int64(time.Millisecond)
			ts[i] = next
		}
	}
	stamped := []*astraguardv1.SeriesSamples{series("sat1/voltage", 32), series("sat1/current", 32)}
	unstamped := []*astraguardv1.SeriesSamples{
		{SeriesId: "sat2/voltage", Values: make([]float64, 32)}, {SeriesId: "sat2/current", Values: make([]float64, 32)}}
	frame := func(src string) *astraguardv1.Frame {
		f := &astraguardv1.Frame{Source: src}
		for _, name := range []string{"voltage", "current", "temperature", "pressure"} {
			f.Channels = append(f.Channels, &astraguardv1.Channel{Name: name, Value: 1})
		}
		return f
	}
	stampedFrames := []*astraguardv1.Frame{frame("sat3"), frame("sat4")}
	unstampedFrames := []*astraguardv1.Frame{frame("sat5")}
	tests := []struct {
		name   string
		series []*astraguardv1.SeriesSamples
		frames []*astraguardv1.Frame
		step   func()
	}{
		{"stamped series", stamped, nil, func() {
			for _, g := range stamped {
				stamp(g.UnixNanos)
			}
		}},
		{"unstamped series", unstamped, nil, func() {}},
		{"stamped frames", nil, stampedFrames, func() {
			for _, f := range stampedFrames {
				next += int64(time.Millisecond)
				f.UnixNanos = next
			}
		}},
		{"unstamped frames", nil, unstampedFrames, func() {}},
	}
	ctx := t.Context()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := batch{maxID: s.maxID}
			score := func() {
				tt.step()
				for _, v := range s.score(ctx, &b, tt.series, tt.frames) {
					if v.GetError() != nil {
						t.Fatalf("verdict %v, want a score", v)
					}
				}
			}
			for range 3 { // create the series and grow the buffers
				score()
			}
			if allocs := testing.AllocsPerRun(100, score); allocs != 0 {
				t.Errorf("scoring a request allocates %v times in steady state, want 0", allocs)
			}
		})
	}
}
