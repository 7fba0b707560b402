package detector

import (
	"context"
	"errors"
	"testing"
	"time"
)

// inlineModel is fakeModel as an InlineModel that notes what ctx it saw.
type inlineModel struct {
	fakeModel
	predicts    int
	sawDeadline bool
	delay       time.Duration // how long a call takes
}

func (m *inlineModel) PredictsInline() {}

func (m *inlineModel) Predict(ctx context.Context, in []Group, out []Prediction) error {
	m.predicts++
	_, m.sawDeadline = ctx.Deadline()
	time.Sleep(m.delay)
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.fakeModel.Predict(ctx, in, out)
}

func TestScoreInlineModel(t *testing.T) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name       string
		ctx        context.Context
		timeout    time.Duration
		delay      time.Duration
		wantCalls  int
		wantSource Source
		wantReason Reason
		wantDone   error
	}{
		// No timer per call: the model gets the caller's ctx, deadline-free here.
		{"scores", t.Context(), time.Hour, 0, 1, SourceModel, ReasonNone, nil},
		// A call that overran its deadline is a timeout, as a remote call
		// cut off by its deadline would be.
		{"overran", t.Context(), time.Millisecond, 20 * time.Millisecond, 1, SourceHeuristic, ReasonModelTimeout, context.DeadlineExceeded},
		// The caller's end wins over the deadline and says nothing about the model.
		{"caller gone", cancelled, time.Nanosecond, 0, 1, SourceHeuristic, ReasonModelError, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, g := &inlineModel{delay: tt.delay}, &fakeGate{}
			d, _ := newTestDetector(t, m, g, Config{ModelTimeout: tt.timeout})
			got := d.Score(tt.ctx, nil, []Group{{SeriesID: "sat1/pressure", UnixNanos: ns(1, 2), Values: []float64{10, 60}}})
			for i, v := range got {
				if v.Source != tt.wantSource || v.Reason != tt.wantReason {
					t.Errorf("verdict %d = %+v, want source %v, reason %v", i, v, tt.wantSource, tt.wantReason)
				}
			}
			if m.predicts != tt.wantCalls {
				t.Errorf("model called %d times, want %d", m.predicts, tt.wantCalls)
			}
			if tt.wantCalls > 0 && m.sawDeadline {
				t.Error("inline model got a ctx with a deadline, want the caller's")
			}
			if len(g.done) != 1 || !errors.Is(g.done[0], tt.wantDone) || (tt.wantDone == nil) != (g.done[0] == nil) {
				t.Errorf("gate Done = %v, want one %v", g.done, tt.wantDone)
			}
		})
	}
}
