package detector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/astraguard/astraguard/internal/model"
)

// NewEmbedded returns a Detector whose model is the in-process reference
// model made from t, asked through g (a slow or panicking model trips the
// breaker as a remote one would). Each series' model state belongs to
// that series' one entry (held through a pointer, allocated with the
// series, so that the entries the heuristic reads stay small), and is
// updated while the detector owns the entry: one lookup per group, no
// second table, and model updates in time order however many streams
// write the series.
func NewEmbedded(t *model.Template, g Gate, cfg Config, opts ...Option) (*Detector, error) {
	if t == nil {
		return nil, errors.New("new detector: model template is required")
	}
	newState := func() *model.Detector {
		m := t.NewDetector()
		return &m
	}
	update := func(m **model.Detector, ts int64, v float64, p *scratch) Prediction {
		r := (*m).UpdateJudged(ts, v, p.judge)
		return Prediction{Score: r.Score, Anomaly: r.Anomaly, Warm: r.Warm, Reset: r.Reset, Explain: Explanation{
			// The two enums share their order (TestModelMechanismsMatch).
			Mechanism: Mechanism(r.Mechanism),
			HasBand:   r.Warm,
			Expected:  r.Expected, Lower: r.Lower, Upper: r.Upper,
		}}
	}
	d, err := newDetector(nil, g, cfg, opts, t.Signature(), func(cfg Config) (seriesStore, error) {
		st, err := newSeriesTable(cfg, newState, update)
		if err != nil {
			return nil, err
		}
		// A policy's sensitivity was folded into its threshold once, when
		// SetPolicies bound it (resolveJudge), not per group or sample.
		st.prepare = func(pol *Policy, p *scratch) { p.judge = pol.modelJudge() }
		st.appendModel = func(b []byte, m **model.Detector) ([]byte, error) { return (*m).AppendBinary(b) }
		st.decodeModel = func(m **model.Detector, b []byte) error { return (*m).UnmarshalBinary(b) }
		st.copyModel = func(dst, src **model.Detector) {
			if *dst == nil {
				*dst = new(model.Detector)
			}
			**dst = **src
		}
		st.modelBytes = model.EncodedBytes
		return st, nil
	})
	if err != nil {
		return nil, err
	}
	d.resolveJudge = t.Resolve
	return d, nil
}

// predict updates one series' embedded model state with the valid
// samples of its group g, in order (out holds their verdicts, scored by
// the heuristic; out[0] is the batch's verdict base). A panic fails the
// whole pass (its batch falls back to the heuristic, as a failed model
// call would) and restarts the series' model state, which the panic may
// have left half updated. One recovery per group, not per sample: the
// heuristic and the model keep separate state, so updating the model
// after the heuristic has scored the whole group changes no verdict.
func (st *seriesTable[M]) predict(m *M, g Group, out []Verdict, base int, p *scratch) {
	defer func() {
		if r := recover(); r != nil {
			p.err = fmt.Errorf("%w: %v", ErrModelPanic, r)
			*m = st.newModel()
		}
	}()
	for i := range out {
		if out[i].Err == ErrNone {
			p.add(base+i, st.update(m, out[i].UnixNanos, g.Values[i], p))
		}
	}
}

// finishEmbedded settles a pass that scored the embedded model in the
// series entries: as for a remote call, a panic or an overrun (of the
// pass's own time, without its waits for series other calls held) is a
// model failure and the batch keeps its heuristic verdicts. It reports whether
// the heuristic answered any sample.
func (d *Detector) finishEmbedded(ctx context.Context, ticket uint64, start time.Time, out []Verdict, sc *scratch, valid int) (heuristic bool) {
	err := sc.err
	// The pass's own time: waiting for a series another call holds (two
	// streams writing one series) is not the model being slow.
	if err == nil && ctx.Err() == nil && time.Since(start)-sc.waited > d.cfg.ModelTimeout {
		err = context.DeadlineExceeded
	}
	if err == nil {
		err = checkOutput(sc.preds)
	}
	d.gate.Done(ticket, gateErr(ctx, err))
	if err != nil {
		d.modelFailed(ctx, out, err, valid)
		return true
	}
	d.metrics.latency[SourceModel].Observe(time.Since(start).Seconds())
	return d.apply(out, sc, valid, true, false)
}
