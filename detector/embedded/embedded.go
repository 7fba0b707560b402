package embedded

import (
	"context"
	"fmt"
	"sync"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/model"
)

var _ detector.InlineModel = (*Model)(nil)

// Model adapts a *model.Engine to detector.Model. It is safe for concurrent
// use.
type Model struct {
	engine *model.Engine
	// results holds *[]model.Result scratch buffers, so steady-state calls
	// do not allocate.
	results sync.Pool
}

// New returns a Model scoring with e, which must not be nil (a nil engine is
// a programmer error and panics).
func New(e *model.Engine) *Model {
	if e == nil {
		panic("embedded.New: nil engine")
	}
	m := &Model{engine: e}
	m.results.New = func() any { return new([]model.Result) }
	return m
}

// PredictsInline marks Model as a detector.InlineModel: Predict runs in
// the caller's goroutine and reads ctx only before it starts.
func (m *Model) PredictsInline() {}

// Predict scores every group through the engine in order and fills out[i]
// for the i-th sample across groups. It returns ctx.Err() without scoring if
// ctx is already done; it does not stop part way, since a partly scored
// batch would leave the series state ahead of the caller's verdicts.
func (m *Model) Predict(ctx context.Context, in []detector.Group, out []detector.Prediction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := detector.BatchSize(in, out); err != nil {
		return err
	}
	bufp := m.results.Get().(*[]model.Result)
	defer m.results.Put(bufp)
	off := 0
	for _, g := range in {
		n := len(g.Values)
		if n == 0 {
			continue
		}
		if cap(*bufp) < n {
			*bufp = make([]model.Result, n)
		}
		res := (*bufp)[:n]
		if err := m.engine.Score(g.SeriesID, g.UnixNanos, g.Values, res); err != nil {
			return fmt.Errorf("predict series %q: %w", g.SeriesID, err)
		}
		dst := out[off : off+n]
		for i, r := range res {
			dst[i] = detector.Prediction{Score: r.Score, Anomaly: r.Anomaly, Warm: r.Warm}
		}
		off += n
	}
	return nil
}
