package detector

import (
	"math"
	"time"
	"unicode/utf8"

	"github.com/astraguard/astraguard/detector/heuristic"
	"github.com/astraguard/astraguard/internal/checkpoint"
	"github.com/astraguard/astraguard/internal/store"
)

// entry is everything the service keeps for one series, in one store
// slot: a lookup is one hash and one lock, and the order check, the
// heuristic and the embedded model's update all happen under that lock,
// so they see a series' samples in one order.
//
// The slot holds what every sample touches (watermark, policy, heuristic:
// 320 bytes with the store's bookkeeping) and the embedded model's state
// (2640 bytes) is held through a pointer (M is *model.Detector),
// allocated with the series: 1000 series' slots then take 320 KB
// instead of 2.8 MB, so the breaker-open path, which never reads the
// model's state, finds them in the cache. The pointer is the slot's, used
// only under its lock, so the one-lookup-one-lock contract is unchanged.
type entry[M any] struct {
	last int64 // newest timestamp scored (the watermark); MinInt64 when new
	// policy is the series' policy, matched once per Policies value.
	policy policyCache
	heur   heuristic.State
	model  M // the embedded model's state (a pointer); with a remote model, the claim (see claim)
}

// flight is a remote model's per-series state: the ticket of the model
// call carrying the series' samples, 0 if none.
type flight = uint64

// seriesTable is the detector's store over M, the embedded model's
// per-series state. It is generic so that a detector with a remote model
// spends no memory on an embedded model's state.
type seriesTable[M any] struct {
	t *store.Table[entry[M]]
	// newModel and update are nil with a remote model. update judges
	// under the judgement prepare set in the scratch for the group.
	newModel func() M
	update   func(m *M, unixNanos int64, v float64, p *scratch) Prediction
	prepare  func(pol *Policy, p *scratch)
	// appendModel and decodeModel encode M for checkpoints (state.go),
	// and copyModel copies the state M points to for one (into *dst's,
	// allocated when nil); nil with a remote model, whose entries carry
	// no model state.
	appendModel func(b []byte, m *M) ([]byte, error)
	decodeModel func(m *M, b []byte) error
	copyModel   func(dst, src *M)
	modelBytes  int // the length appendModel writes; 0 with a remote model
}

// seriesStore is what Detector needs of a seriesTable, whatever its M.
type seriesStore interface {
	scoreGroup(d *Detector, g Group, gi int, now scoreTime, out []Verdict, base int, p *scratch) int
	release(ids []string, ticket uint64)
	table() tableStats
	statePart(h *heuristic.Heuristic) checkpoint.Part
	stateValueBytes() int
}

// tableStats is the store's bookkeeping, whatever the value type.
type tableStats interface {
	Len() int
	Capacity() int
	Evicted(store.Reason) uint64
	Sweep(now time.Time) int
}

func newSeriesTable[M any](cfg Config, newModel func() M, update func(*M, int64, float64, *scratch) Prediction) (*seriesTable[M], error) {
	t, err := store.New[entry[M]](store.Config{Capacity: cfg.MaxSeries, TTL: cfg.SeriesTTL})
	if err != nil {
		return nil, err
	}
	return &seriesTable[M]{t: t, newModel: newModel, update: update}, nil
}

func (st *seriesTable[M]) table() tableStats { return st.t }

// scoreGroup validates and heuristically scores one group's samples into
// out (len(out) == len(g.Values); out[0] is the batch's verdict base) and
// returns how many were valid. With p.embedded it also updates the
// embedded model; with p.ticket it claims the series for the remote call.
// Both in-process scorers score under the group's policy in p.ps (none
// when nil), which goes to p.pols[gi], group gi's, for applyPolicies, and
// judges the heuristic verdicts (judgeScored). A valid verdict carries
// p.reason from the start.
// Samples without timestamps get now.stamp; client timestamps after
// now.latest are refused.
func (st *seriesTable[M]) scoreGroup(d *Detector, g Group, gi int, now scoreTime, out []Verdict, base int, p *scratch) int {
	if code := d.checkGroup(g); code != ErrNone {
		for i := range out {
			out[i] = Verdict{UnixNanos: timestampAt(g, i, now.stamp), Err: code}
		}
		return 0
	}
	if len(g.Values) == 0 {
		// Nothing to score: taking an entry would let a request of many
		// empty series (a few bytes each) evict the series that send.
		return 0
	}
	own := len(g.UnixNanos) == 0 // checkGroup: all samples stamped, or none
	ref := st.t.Acquire(g.SeriesID, now.wall)
	defer ref.Release()
	p.waited += ref.Waited()
	s := ref.Value()
	// New, or evicted since its last sample: take over what another
	// replica learnt, or learn afresh.
	if ref.Created() && (d.opts.adopter == nil || !st.adopt(d, ref.ID(), s)) {
		s.last, s.policy = math.MinInt64, policyCache{}
		s.heur = d.heur.NewState(ref.ID())
		if st.newModel != nil {
			s.model = st.newModel()
		}
	}
	if now.pullBack(&s.last, own) {
		p.pulled++
	}
	stamp := now.stamp
	if own && s.last > stamp {
		// Another call stamped this series' samples after this one did
		// and reached the entry first (two streams writing one series).
		// A stamp taken now, while the entry is held, is no earlier than
		// any issued before (stampClock), so the samples stay in order.
		// A watermark from a client stamp ahead of the clock still
		// refuses them, as documented.
		stamp = d.stamps.stamp(d.opts.clock.Now().UnixNano())
	}
	pol := p.ps.matchCached(g.SeriesID, &s.policy)
	if p.ps != nil {
		p.pols[gi] = pol
	}
	flag := pol.heuristicFlag()
	if p.embedded && st.prepare != nil {
		st.prepare(pol, p)
	}
	valid := 0
	for i, v := range g.Values {
		ts := timestampAt(g, i, stamp)
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			out[i] = Verdict{UnixNanos: ts, Err: ErrNotFinite}
		case ts < 0 || !own && ts > now.latest:
			// Too far ahead of our clock: accepting it would move the
			// watermark past every honest sample for that long.
			out[i] = Verdict{UnixNanos: ts, Err: ErrInvalidTimestamp}
		case ts < s.last:
			out[i] = Verdict{UnixNanos: ts, Err: ErrOutOfOrder}
		default:
			s.last = ts
			r := d.heur.ScoreAt(&s.heur, ts, v, flag)
			out[i] = Verdict{
				UnixNanos:      ts,
				Score:          r.Score,
				Anomaly:        r.Anomaly,
				LimitViolation: r.LimitViolation,
				Source:         SourceHeuristic,
				Reason:         p.reason,
				Explain: Explanation{Mechanism: heuristicMechanism(r),
					HasBand: r.HasBand, Expected: r.Expected, Lower: r.Lower, Upper: r.Upper},
			}
			if pol != nil {
				pol.judgeScored(&out[i], v)
			}
			if out[i].Anomaly {
				p.anomalies++
			}
			valid++
		}
	}
	if valid > 0 && p.embedded && p.err == nil {
		st.predict(&s.model, g, out, base, p)
	}
	if valid > 0 && p.ticket != 0 {
		st.claim(s, g.SeriesID, out, valid, p)
	}
	return valid
}

// claim reserves the series for this pass's remote model call, so two
// streams writing one series never have its samples in flight at once
// (they could reach the model out of order). A series already in flight
// for another call keeps its heuristic verdicts, with ReasonSeriesBusy.
func (st *seriesTable[M]) claim(s *entry[M], id string, out []Verdict, valid int, p *scratch) {
	f := any(&s.model).(*flight) // only remote tables claim
	switch *f {
	case p.ticket: // an earlier group of this batch claimed it
	case 0:
		*f = p.ticket
		p.claims = append(p.claims, id)
	default:
		for i := range out {
			if out[i].Err == ErrNone {
				out[i].Reason = ReasonSeriesBusy
			}
		}
		p.busy += valid
	}
}

// release ends this pass's claims. A series evicted meanwhile is gone
// (or holds a newer claim) and is left alone.
func (st *seriesTable[M]) release(ids []string, ticket uint64) {
	for _, id := range ids {
		if ref, ok := st.t.Lookup(id); ok {
			if f := any(&ref.Value().model).(*flight); *f == ticket {
				*f = 0
			}
			ref.Release()
		}
	}
}

func (d *Detector) checkGroup(g Group) ErrorCode {
	switch {
	case g.SeriesID == "":
		return ErrMissingSeriesID
	case len(g.SeriesID) > d.cfg.MaxSeriesIDBytes || !utf8.ValidString(g.SeriesID):
		return ErrInvalidSeriesID
	case len(g.UnixNanos) != 0 && len(g.UnixNanos) != len(g.Values):
		return ErrLengthMismatch
	}
	return ErrNone
}

func timestampAt(g Group, i int, now int64) int64 {
	if i < len(g.UnixNanos) {
		return g.UnixNanos[i]
	}
	return now
}

// heuristicMechanism names what the heuristic's verdict rests on: its
// operating limits or the plausibility limit (limit), a record-breaking run
// of identical values (stuck), or its level-shift statistic.
func heuristicMechanism(r heuristic.Result) Mechanism {
	switch {
	case r.LimitViolation || r.Implausible:
		return MechanismLimit
	case r.Stuck:
		return MechanismStuck
	case r.Score > 0:
		return MechanismShift
	}
	return MechanismNone
}
