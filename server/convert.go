package server

import (
	"slices"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// batch is one stream's reusable conversion state: request groups in,
// verdict messages out. Reusing it keeps the per-sample path allocation-free
// after the first few requests; it is safe because gRPC has serialized a
// response by the time Send returns.
type batch struct {
	groups   []detector.Group
	frameTS  []int64 // timestamps of frame samples, one per channel
	frameV   []float64
	verdicts []detector.Verdict
	msgs     []astraguardv1.Verdict
	ptrs     []*astraguardv1.Verdict
}

// countSamples returns how many samples a request carries.
func countSamples(series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) int {
	n := 0
	for _, s := range series {
		n += len(s.GetValues())
	}
	for _, f := range frames {
		n += len(f.GetChannels())
	}
	return n
}

// toGroups turns a request into detector groups without copying the
// columnar series data. Frames become one single-sample group per channel,
// named "<source>/<channel>"; a missing source or channel name yields an
// empty id, which the detector reports as ErrMissingSeriesID.
func (b *batch) toGroups(series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) []detector.Group {
	b.groups = b.groups[:0]
	for _, s := range series {
		b.groups = append(b.groups, detector.Group{SeriesID: s.GetSeriesId(), UnixNanos: s.GetUnixNanos(), Values: s.GetValues()})
	}
	if len(frames) == 0 {
		return b.groups
	}
	// Size the frame buffers first so the groups can slice into them in
	// one pass without a later append moving the arrays.
	n := countSamples(nil, frames)
	b.frameTS = slices.Grow(b.frameTS[:0], n)[:n]
	b.frameV = slices.Grow(b.frameV[:0], n)[:n]
	k := 0
	for _, f := range frames {
		for _, c := range f.GetChannels() {
			id := ""
			if f.GetSource() != "" && c.GetName() != "" {
				id = f.GetSource() + "/" + c.GetName()
			}
			b.frameTS[k], b.frameV[k] = f.GetUnixNanos(), c.GetValue()
			g := detector.Group{SeriesID: id, Values: b.frameV[k : k+1 : k+1]}
			if f.GetUnixNanos() != 0 {
				g.UnixNanos = b.frameTS[k : k+1 : k+1]
			}
			b.groups = append(b.groups, g)
			k++
		}
	}
	return b.groups
}

// toProto fills reusable verdict messages from detector verdicts, naming
// each one's series from the groups that produced it.
func (b *batch) toProto(groups []detector.Group, vs []detector.Verdict) []*astraguardv1.Verdict {
	n := len(vs)
	if cap(b.msgs) < n {
		b.msgs = make([]astraguardv1.Verdict, n)
		b.ptrs = make([]*astraguardv1.Verdict, n)
		for i := range b.msgs {
			b.ptrs[i] = &b.msgs[i]
		}
	}
	out := b.ptrs[:n]
	i := 0
	for _, g := range groups {
		for range g.Values {
			fillVerdict(out[i], g.SeriesID, &vs[i])
			i++
		}
	}
	return out
}

func fillVerdict(m *astraguardv1.Verdict, id string, v *detector.Verdict) {
	m.SeriesId = id
	m.UnixNanos = v.UnixNanos
	m.Score = v.Score
	m.Anomaly = v.Anomaly
	m.LimitViolation = v.LimitViolation
	m.Source = astraguardv1.Source(v.Source)
	m.FallbackReason = astraguardv1.FallbackReason(v.Reason)
	m.Error = sampleErrors[v.Err]
}

// sampleErrors holds one immutable message per code; marshalling a shared
// message concurrently is safe, and it spares an allocation per bad sample.
var sampleErrors = func() []*astraguardv1.SampleError {
	var out []*astraguardv1.SampleError
	for c := detector.ErrorCode(0); c.Message() != "unknown error"; c++ {
		if c == detector.ErrNone {
			out = append(out, nil)
			continue
		}
		out = append(out, &astraguardv1.SampleError{Code: astraguardv1.SampleErrorCode(c), Message: c.Message()})
	}
	return out
}()
