package server

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// batch is one stream's reusable conversion state: request groups in,
// verdict messages out. Reusing it keeps the per-sample path allocation-free
// after the first few requests; it is safe because gRPC has serialized a
// response by the time Send returns.
type batch struct {
	maxID    int // the scorer's series id limit in bytes
	groups   []detector.Group
	echo     []string // per group: the series id its verdicts carry
	frameTS  []int64  // timestamps of frame samples, one per channel
	frameV   []float64
	verdicts []detector.Verdict
	msgs     []astraguardv1.Verdict
	ptrs     []*astraguardv1.Verdict
	// frameIDs holds the "<source>/<channel>" ids this batch built, so a
	// stream that sends the same channels again builds none; idBuf is
	// where a lookup key is assembled without allocating.
	frameIDs map[string]string
	idBuf    []byte
	bands    []astraguardv1.Expectation // msgs[i].Expected points at bands[i] when set
}

// maxRetainedSamples bounds the samples a stream's batch keeps buffers
// for between requests (about 200 bytes each): a stream that once sent a
// large request must not keep its buffers while it idles, uncounted by
// MaxQueuedBytes. Requests up to this size reuse them without allocating.
const maxRetainedSamples = 1024

// shrink drops buffers grown past maxRetainedSamples.
func (b *batch) shrink() {
	if cap(b.msgs) > maxRetainedSamples || cap(b.verdicts) > maxRetainedSamples || cap(b.frameTS) > maxRetainedSamples {
		b.verdicts, b.msgs, b.ptrs, b.bands, b.frameTS, b.frameV = nil, nil, nil, nil, nil, nil
	}
	if cap(b.groups) > maxRetainedSamples {
		b.groups, b.echo = nil, nil
	}
}

// maxFrameIDs bounds a batch's frame id cache: about 70 KiB per stream
// with ids at the 256-byte limit. Ids past it are built per request.
const maxFrameIDs = 256

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

// requestCost is what a request counts against MaxSamplesPerRequest and
// the client's rate: its samples, with each series sent without values and
// each frame without channels counted as one. Those carry no sample but
// cost a decode and a group each, and two bytes apiece they let a request
// within every other bound hold 400,000 of them (0.6 s and 220 MB).
func requestCost(series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) int {
	n := 0
	for _, s := range series {
		n += max(len(s.GetValues()), 1)
	}
	for _, f := range frames {
		n += max(len(f.GetChannels()), 1)
	}
	return n
}

// overlongID stands in for a frame's "<source>/<channel>" id when that
// would be longer than the id limit: building it could cost the frame's
// source length once per channel (an 8 MiB source with 100,000 channels
// fits in one request), and the detector must refuse it anyway. Invalid
// UTF-8 makes every detector refuse it as ErrInvalidSeriesID whatever its
// limit, and a request cannot carry it: proto3 strings are valid UTF-8.
const overlongID = "\xff"

// toGroups turns a request into detector groups without copying the
// columnar series data. Frames become one single-sample group per channel,
// named "<source>/<channel>"; a missing source or channel name yields an
// empty id, which the detector reports as ErrMissingSeriesID. Alongside,
// b.echo gets each group's id as verdicts show it (see echoID).
func (b *batch) toGroups(series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) []detector.Group {
	b.groups, b.echo = b.groups[:0], b.echo[:0]
	for _, s := range series {
		id := s.GetSeriesId()
		b.groups = append(b.groups, detector.Group{SeriesID: id, UnixNanos: s.GetUnixNanos(), Values: s.GetValues()})
		b.echo = append(b.echo, echoID(id, b.maxID))
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
		src := f.GetSource()
		for _, c := range f.GetChannels() {
			id, echo := "", ""
			switch name := c.GetName(); {
			case src == "" || name == "":
			case len(src)+1+len(name) > b.maxID:
				id, echo = overlongID, echoFrameID(src, name, b.maxID)
			default:
				id = b.frameID(src, name)
				echo = echoID(id, b.maxID)
			}
			b.frameTS[k], b.frameV[k] = f.GetUnixNanos(), c.GetValue()
			g := detector.Group{SeriesID: id, Values: b.frameV[k : k+1 : k+1]}
			if f.GetUnixNanos() != 0 {
				g.UnixNanos = b.frameTS[k : k+1 : k+1]
			}
			b.groups = append(b.groups, g)
			b.echo = append(b.echo, echo)
			k++
		}
	}
	return b.groups
}

// frameID returns "<src>/<name>", from the cache when this batch built it
// before.
func (b *batch) frameID(src, name string) string {
	b.idBuf = append(append(append(b.idBuf[:0], src...), '/'), name...)
	if id, ok := b.frameIDs[string(b.idBuf)]; ok { // the conversion does not allocate
		return id
	}
	id := string(b.idBuf)
	if len(b.frameIDs) < maxFrameIDs {
		if b.frameIDs == nil {
			b.frameIDs = make(map[string]string)
		}
		b.frameIDs[id] = id
	}
	return id
}

// echoID is the series id a verdict carries: id itself, or, when id is
// longer than max bytes (the scorer refuses it), its first max bytes cut
// back to a whole UTF-8 character. Echoing a refused id whole would let one
// request of a long id and many values multiply the id into a response
// thousands of times the request's size. An id that is not valid UTF-8
// (the scorer refuses it too) is echoed with each invalid byte sequence
// replaced by U+FFFD, because a response must be valid protobuf.
func echoID(id string, max int) string {
	if len(id) <= max && utf8.ValidString(id) {
		return id
	}
	if t := cutID(id, max); t != "" && utf8.ValidString(t) {
		return t
	}
	return cutID(strings.ToValidUTF8(id[:min(len(id), max)], "\uFFFD"), max)
}

// cutID cuts id to at most max bytes, dropping trailing bytes that are
// not a whole character (one the cut split).
func cutID(id string, max int) string {
	if len(id) <= max {
		return id
	}
	id = id[:max]
	for len(id) > 0 {
		if r, size := utf8.DecodeLastRuneInString(id); r != utf8.RuneError || size > 1 {
			break
		}
		id = id[:len(id)-1] // a character cut by the limit
	}
	return id
}

// echoRequestID is a request id as a response carries it: valid UTF-8
// passes unchanged (clients match responses by it), invalid byte
// sequences become U+FFFD.
func echoRequestID(id string) string {
	if utf8.ValidString(id) {
		return id
	}
	return strings.ToValidUTF8(id, "\uFFFD")
}

// echoFrameID is echoID of "<src>/<name>" without building the whole id.
func echoFrameID(src, name string, max int) string {
	if len(src) >= max {
		return echoID(src, max)
	}
	return echoID(src+"/"+echoID(name, max-len(src)-1), max) // the outer call mends an invalid src
}

// toProto fills reusable verdict messages from detector verdicts, naming
// each one's series from the groups toGroups made.
func (b *batch) toProto(groups []detector.Group, vs []detector.Verdict) []*astraguardv1.Verdict {
	n := len(vs)
	if cap(b.msgs) < n {
		b.msgs = make([]astraguardv1.Verdict, n)
		b.bands = make([]astraguardv1.Expectation, n)
		b.ptrs = make([]*astraguardv1.Verdict, n)
		for i := range b.msgs {
			b.ptrs[i] = &b.msgs[i]
		}
	}
	out := b.ptrs[:n]
	i := 0
	for gi, g := range groups {
		for range g.Values {
			fillVerdict(out[i], b.echo[gi], &vs[i], &b.bands[i])
			i++
		}
	}
	return out
}

// fillVerdict fills m from v; band is m's own Expectation, reused like m.
func fillVerdict(m *astraguardv1.Verdict, id string, v *detector.Verdict, band *astraguardv1.Expectation) {
	m.SeriesId = id
	m.UnixNanos = v.UnixNanos
	m.Score = v.Score
	m.Anomaly = v.Anomaly
	m.LimitViolation = v.LimitViolation
	m.Source = astraguardv1.Source(v.Source)
	m.FallbackReason = astraguardv1.FallbackReason(v.Reason)
	m.Error = sampleErrors[v.Err]
	m.Mechanism = astraguardv1.Mechanism(v.Explain.Mechanism)
	m.Expected = nil
	if e := v.Explain; e.HasBand {
		band.Value, band.Lower, band.Upper = e.Expected, e.Lower, e.Upper
		m.Expected = band
	}
	m.Policy = v.Policy
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
