package detector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/store/storeprom"
)

// Model scores batches of samples. Predict fills out[i] for the i-th sample
// counting across the groups in order; len(out) is the total sample count.
// It must honour ctx's deadline.
type Model interface {
	Predict(ctx context.Context, in []Group, out []Prediction) error
}

// BatchSize checks a Predict call against the Model contract (every group
// with one timestamp per value, out long enough) and returns the number of
// samples, so each Model implementation validates its input the same way.
func BatchSize(in []Group, out []Prediction) (int, error) {
	n := 0
	for _, g := range in {
		if len(g.UnixNanos) != len(g.Values) {
			return 0, fmt.Errorf("predict series %q: %d timestamps for %d values", g.SeriesID, len(g.UnixNanos), len(g.Values))
		}
		n += len(g.Values)
	}
	if len(out) < n {
		return 0, fmt.Errorf("predict: out holds %d predictions, want %d", len(out), n)
	}
	return n, nil
}

// Prediction is the model's answer for one sample.
type Prediction struct {
	Score   float64     // in [0, 1]
	Anomaly bool        // the model's own threshold decision
	Warm    bool        // false while the model is still learning the series
	Explain Explanation // optional: a model that does not explain leaves it zero
	// Reset reports that the model discarded the series' learned state as
	// damaged (it produced an output out of range: model.Result.Reset) and
	// learns the series again; counted in
	// astraguard_anomaly_model_state_resets_total. Remote models leave it
	// false.
	Reset bool
}

// Gate guards model calls; *breaker.Breaker satisfies it, so detector never
// imports the breaker and no closure is allocated per call.
type Gate interface {
	Allow() (ticket uint64, err error)
	Done(ticket uint64, err error)
}

// ErrModelPanic reports a model that panicked; it counts as a model failure.
var ErrModelPanic = errors.New("model panicked")

// errCallerGone tells the gate that the outcome says nothing about the
// model: the caller cancelled or ran out of time first.
var errCallerGone = fmt.Errorf("caller gone: %w", context.Canceled)

// Detector scores samples: model first, heuristic as the fallback.
type Detector struct {
	model  Model // nil for the embedded model (NewEmbedded)
	gate   Gate
	heur   *heuristic.Heuristic
	cfg    Config
	opts   options
	series seriesStore
	// modelSig is the embedded model's configuration signature, or
	// "remote": part of StateSignature.
	modelSig string
	tickets  atomic.Uint64 // numbers remote model calls for series claims
	stamps   stampClock    // receive times of samples sent without timestamps
	metrics  *metrics
	modelLog logLimiter
	adoptLog logLimiter               // handed-over records refused
	scratch  sync.Pool                // *scratch
	policy   atomic.Pointer[Policies] // bound to this detector (Policies.bind); nil: verdicts are left as scored
	// resolveJudge folds a policy's sensitivity into the embedded model's
	// judgement (model.Template.Resolve); nil with a remote model.
	resolveJudge func(model.Judge) model.Judge
}

type scratch struct {
	groups []Group
	preds  []Prediction
	index  []int32 // model position -> verdict position, when compacted

	// One Score call's model pass (see scoreGroup).
	embedded bool   // update the embedded model in the series entries
	ticket   uint64 // nonzero: claim series for the remote call numbered so
	err      error  // the embedded model panicked
	busy     int    // valid samples of series claimed by another call
	pulled   int    // watermarks pulled back (scoreTime.pullBack)
	// waited is how long this pass waited for series held by other calls,
	// which is not the embedded model's own time (finishEmbedded).
	waited time.Duration
	claims []string // series this call claimed, to release
	// ts and vals back the compacted groups' samples, so that compacting
	// allocates nothing once they have grown.
	ts   []int64
	vals []float64
	// reason is the gate's refusal, decided before scoring, which every
	// valid verdict carries from the start (ReasonNone: not refused);
	// anomalies counts the valid verdicts flagged once scored and judged.
	reason    Reason
	anomalies int
	ps        *Policies // the policies judging this call's verdicts, if any
	in        []Group   // this call's groups, for the policies
	pols      []*Policy // in's policies (nil for none or a malformed group), set by scoreGroup
	// judge is the embedded model's judgement of the group being scored
	// (its policy's), set once per group.
	judge model.Judge
}

func (sc *scratch) reset() {
	sc.preds, sc.index = sc.preds[:0], sc.index[:0]
	sc.embedded, sc.ticket, sc.err, sc.busy, sc.pulled, sc.waited = false, 0, nil, 0, 0, 0
	sc.reason, sc.anomalies = ReasonNone, 0
	clear(sc.claims) // drop references to the request's ids
	sc.claims = sc.claims[:0]
	sc.ps, sc.in = nil, nil
	clear(sc.pols)
	sc.pols = sc.pols[:0]
	sc.judge = model.Judge{}
}

// add records the embedded model's prediction for verdict i.
func (sc *scratch) add(i int, p Prediction) {
	sc.preds = append(sc.preds, p)
	sc.index = append(sc.index, int32(i))
}

// New returns a Detector that asks m, a remote model, through g and falls
// back to the heuristic (WithHeuristic; the seed's limit preset by
// default). NewEmbedded is the in-process reference model's constructor.
func New(m Model, g Gate, cfg Config, opts ...Option) (*Detector, error) {
	if m == nil {
		return nil, errors.New("new detector: model and gate are required")
	}
	return newDetector(m, g, cfg, opts, "remote", func(cfg Config) (seriesStore, error) {
		return newSeriesTable[flight](cfg, nil, nil)
	})
}

func newDetector(m Model, g Gate, cfg Config, opts []Option, modelSig string, newStore func(Config) (seriesStore, error)) (*Detector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	o := evaluateOptions(opts)
	if o.heuristic == nil {
		if o.heuristic, err = heuristic.New(heuristic.Config{}); err != nil {
			return nil, fmt.Errorf("new detector: %w", err)
		}
	}
	if g == nil {
		return nil, errors.New("new detector: model and gate are required")
	}
	d := &Detector{model: m, gate: g, heur: o.heuristic, cfg: cfg, opts: o, modelSig: modelSig}
	d.modelLog.interval = modelErrorLogInterval
	d.adoptLog.interval = modelErrorLogInterval
	if d.series, err = newStore(cfg); err != nil {
		return nil, fmt.Errorf("new detector: %w", err)
	}
	t := d.series.table()
	d.metrics = newMetrics(o.registerer, func() float64 { return float64(t.Len()) })
	storeprom.RegisterEvictions(o.registerer, t)
	d.scratch.New = func() any { return new(scratch) }
	return d, nil
}

// MaxSeriesIDBytes returns the longest series id d accepts, so a caller
// can refuse longer ids before building or echoing them.
func (d *Detector) MaxSeriesIDBytes() int { return d.cfg.MaxSeriesIDBytes }

// Score appends one verdict per sample of groups to dst, in order, and
// returns the extended slice. It never fails: a sample that cannot be scored
// gets a verdict with Err set, and a failing model degrades to the heuristic.
func (d *Detector) Score(ctx context.Context, dst []Verdict, groups []Group) []Verdict {
	total := 0
	for _, g := range groups {
		total += len(g.Values)
	}
	base := len(dst)
	dst = grow(dst, total)
	out := dst[base:]

	wall := d.opts.clock.Now()
	now := scoreTime{wall: wall, stamp: d.stamps.stamp(wall.UnixNano()), latest: wall.Add(d.cfg.MaxClockSkew).UnixNano()}
	sc := d.scratch.Get().(*scratch)
	defer d.scratch.Put(sc)
	sc.reset()
	ticket, allowed, gerr := d.allow(ctx, groups, sc)
	if gerr != nil {
		sc.reason = d.opts.rejectReason(gerr)
	}

	// The heuristic and the embedded model score each series under its
	// policy, which scoreGroup looks up with the series' entry.
	if sc.ps = d.policy.Load(); sc.ps != nil {
		sc.in, sc.pols = groups, append(sc.pols[:0], make([]*Policy, len(groups))...)
	}
	start := time.Now()
	valid, off, stamped := 0, 0, true
	for gi, g := range groups {
		stamped = stamped && len(g.UnixNanos) == len(g.Values)
		n := len(g.Values)
		valid += d.series.scoreGroup(d, g, gi, now, out[off:off+n], off, sc)
		off += n
	}
	if sc.pulled > 0 {
		d.metrics.pulledBack.Add(float64(sc.pulled))
	}
	heurTime := time.Since(start)
	if valid < total {
		d.countErrors(out)
	}
	// Policies judged the heuristic verdicts as they were scored and judge
	// the model's as they are merged (apply), so the anomaly counts
	// include their decisions.
	heuristic := false // the heuristic answered some sample
	switch {
	case !allowed && gerr != nil && valid > 0:
		d.refused(sc.reason, valid, sc.anomalies)
		heuristic = true
	case !allowed:
		// Nothing valid to ask about (all groups malformed or rejected).
	case valid == 0:
		d.gate.Done(ticket, errCallerGone) // the model was not exercised
	case d.model == nil && !sc.embedded: // the caller was gone before the pass
		d.gate.Done(ticket, errCallerGone)
		d.modelFailed(ctx, out, ctx.Err(), valid)
		heuristic = true
	case d.model == nil:
		heuristic = d.finishEmbedded(ctx, ticket, start, out, sc, valid)
	default:
		heuristic = d.askModel(ctx, ticket, groups, out, sc, valid, stamped)
	}
	sc.ps, sc.in = nil, nil // the pool must not pin the request
	// The heuristic's latency counts the batches it answered some sample
	// of; an embedded pass scores both detectors at once and counts as
	// the model's, and a batch with no valid sample as neither's.
	if heuristic && !sc.embedded {
		d.metrics.latency[SourceHeuristic].Observe(heurTime.Seconds())
	}
	return dst
}

// allow asks the gate before the series are scored, since the embedded
// model and the remote call's series claims are both decided per sample
// while the series are held. A batch with no well-formed group asks
// nothing.
func (d *Detector) allow(ctx context.Context, groups []Group, sc *scratch) (ticket uint64, allowed bool, err error) {
	wellFormed := false
	for _, g := range groups {
		if len(g.Values) > 0 && d.checkGroup(g) == ErrNone {
			wellFormed = true
			break
		}
	}
	if !wellFormed {
		return 0, false, nil
	}
	if ticket, err = d.gate.Allow(); err != nil {
		return 0, false, err
	}
	switch {
	case d.model != nil:
		sc.ticket = d.tickets.Add(1)
	case ctx.Err() == nil:
		// The embedded model never stops part way: a partly scored batch
		// would leave a series' state ahead of the caller's verdicts.
		sc.embedded = true
	}
	return ticket, true, nil
}

// askModel asks the remote model about the valid samples of series this
// call claimed; samples of series busy in another call keep their
// heuristic verdicts (ReasonSeriesBusy). stamped says every group carries
// its own timestamps; otherwise the model gets the receive times. It
// reports whether the heuristic answered any sample.
func (d *Detector) askModel(ctx context.Context, ticket uint64, groups []Group, out []Verdict, sc *scratch, valid int, stamped bool) (heuristic bool) {
	defer d.series.release(sc.claims, sc.ticket)
	if sc.busy > 0 {
		d.countBusy(out, sc.busy)
		valid -= sc.busy
	}
	if valid == 0 {
		d.gate.Done(ticket, errCallerGone) // the model was not exercised
		d.metrics.fallbackBatches.Inc()
		return true
	}
	in, compacted := groups, valid < len(out) || !stamped
	if compacted {
		in = sc.compact(groups, out)
	}
	sc.preds = growPreds(sc.preds, valid)

	start := time.Now()
	err := d.predict(ctx, in, sc.preds)
	if err == nil {
		err = checkOutput(sc.preds[:valid])
	}
	d.gate.Done(ticket, gateErr(ctx, err))
	if err != nil {
		d.modelFailed(ctx, out, err, valid)
		return true
	}
	d.metrics.latency[SourceModel].Observe(time.Since(start).Seconds())
	return d.apply(out, sc, valid, compacted, sc.busy > 0)
}

// predict calls the model under its own deadline, ModelTimeout from now,
// and turns a panic into a model failure, so one bad model call costs a
// batch its model verdicts, never the stream.
func (d *Detector) predict(ctx context.Context, in []Group, out []Prediction) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrModelPanic, r)
		}
	}()
	mctx, cancel := context.WithTimeout(ctx, d.cfg.ModelTimeout)
	defer cancel()
	return d.model.Predict(mctx, in, out)
}

func gateErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return errCallerGone
	}
	return err
}

// apply merges the model's predictions (checked by checkOutput) into the
// heuristic verdicts and reports whether the heuristic kept any: samples
// warming up, or busy ones (busy: counted by the caller already).
func (d *Detector) apply(out []Verdict, sc *scratch, valid int, compacted, busy bool) (heuristic bool) {
	var fromModel, anomalies, warming int
	for j, p := range sc.preds[:valid] {
		i := j
		if compacted {
			i = int(sc.index[j])
		}
		v := &out[i]
		if p.Reset {
			d.metrics.stateResets.Inc()
		}
		if !p.Warm {
			v.Reason = ReasonWarmingUp
			warming++
			continue
		}
		// The heuristic's verdict names MechanismLimit for an operating
		// limit or a value beyond the plausibility limit (±1e30).
		limit := v.Explain.Mechanism == MechanismLimit
		v.Source, v.Reason, v.Score, v.Anomaly = SourceModel, ReasonNone, p.Score, p.Anomaly
		v.Explain = p.Explain.sanitized()
		if limit {
			// One rule on both paths (the heuristic scores a violation 1):
			// an operating-limit violation, or an implausible value, is an
			// anomaly of the highest score whatever the model says.
			v.Score, v.Anomaly = 1, true
			v.Explain.Mechanism = MechanismLimit
		}
		fromModel++
		if v.Anomaly && sc.ps == nil {
			anomalies++
		}
	}
	if sc.ps != nil {
		applyPolicies(sc.pols, sc.in, out, d.model != nil)
		for i := range out {
			if out[i].Source == SourceModel && out[i].Anomaly {
				anomalies++
			}
		}
	}
	d.metrics.detections[SourceModel].Add(float64(fromModel))
	d.metrics.anomalies[SourceModel].Add(float64(anomalies))
	if warming > 0 {
		d.countHeuristic(out, warming)
		d.metrics.fallbackSamples[ReasonWarmingUp].Add(float64(warming))
	}
	if warming > 0 || busy {
		d.metrics.fallbackBatches.Inc()
	}
	return warming > 0 || busy
}

// refused counts a batch the gate refused: its valid verdicts, anomalies
// of them flagged, were scored by the heuristic with the reason already.
func (d *Detector) refused(reason Reason, valid, anomalies int) {
	d.metrics.detections[SourceHeuristic].Add(float64(valid))
	d.metrics.anomalies[SourceHeuristic].Add(float64(anomalies))
	d.metrics.fallbackBatches.Inc()
	d.metrics.fallbackSamples[reason].Add(float64(valid))
}

// fallback keeps the heuristic verdicts already in out and says why.
func (d *Detector) fallback(out []Verdict, reason Reason, valid int) {
	for i := range out {
		if out[i].Err == ErrNone && out[i].Reason != ReasonSeriesBusy {
			out[i].Reason = reason
		}
	}
	d.countHeuristic(out, valid)
	d.metrics.fallbackBatches.Inc()
	d.metrics.fallbackSamples[reason].Add(float64(valid))
}

func (d *Detector) countHeuristic(out []Verdict, n int) {
	anomalies := 0
	for i := range out {
		if out[i].Source == SourceHeuristic && out[i].Anomaly && out[i].Reason != ReasonSeriesBusy {
			anomalies++
		}
	}
	d.metrics.detections[SourceHeuristic].Add(float64(n))
	d.metrics.anomalies[SourceHeuristic].Add(float64(anomalies))
}

func (d *Detector) countErrors(out []Verdict) {
	for i := range out {
		if c := out[i].Err; c != ErrNone {
			d.metrics.sampleErrors[c].Inc()
		}
	}
}

// compact copies the valid samples of groups into sc.groups, remembering
// where each one's verdict lives. The groups slice sc.ts and sc.vals,
// grown first to hold every sample so that no append moves them.
func (sc *scratch) compact(groups []Group, out []Verdict) []Group {
	sc.groups, sc.index = sc.groups[:0], sc.index[:0]
	sc.ts, sc.vals = slices.Grow(sc.ts[:0], len(out)), slices.Grow(sc.vals[:0], len(out))
	off := 0
	for _, g := range groups {
		start := len(sc.vals)
		for i := range g.Values {
			v := &out[off+i]
			if v.Err != ErrNone || v.Reason == ReasonSeriesBusy {
				continue
			}
			sc.ts = append(sc.ts, v.UnixNanos)
			sc.vals = append(sc.vals, g.Values[i])
			sc.index = append(sc.index, int32(off+i))
		}
		if end := len(sc.vals); end > start {
			sc.groups = append(sc.groups, Group{SeriesID: g.SeriesID, UnixNanos: sc.ts[start:end:end], Values: sc.vals[start:end:end]})
		}
		off += len(g.Values)
	}
	return sc.groups
}

func grow(s []Verdict, n int) []Verdict {
	if cap(s)-len(s) < n {
		s = append(make([]Verdict, 0, len(s)+n), s...)
	}
	return s[:len(s)+n]
}

func growPreds(s []Prediction, n int) []Prediction {
	if cap(s) < n {
		return make([]Prediction, n)
	}
	s = s[:n]
	clear(s)
	return s
}
