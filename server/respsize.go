package server

import (
	"math"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// LimitResponseSize is the limit a request breaks when its response could
// be larger than Config.MaxSendMsgBytes.
const LimitResponseSize = "response size"

// verdictFixed bounds the encoded size of one Verdict besides its series
// id: the larger of a scored verdict and an error verdict (the detector
// leaves score, anomaly and source unset when it sets an error, as the
// proto says), with every other field at its longest encoding.
var verdictFixed = max(proto.Size(longestVerdict(false)), proto.Size(longestVerdict(true)))

// longestVerdict is a Verdict whose every singular scalar field takes its
// longest encoding, found from the descriptor so that a scalar field added
// to Verdict is counted without a change here; TestVerdictBoundCoversEveryField
// fails for a field of any other kind (expected is set explicitly).
func longestVerdict(withError bool) *astraguardv1.Verdict {
	v := &astraguardv1.Verdict{}
	m := v.ProtoReflect()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if x, ok := longestScalar(fd); ok && !fd.IsList() {
			m.Set(fd, x)
		}
	}
	// The expectation is a message of three doubles, each at its full
	// eight bytes when non-zero.
	v.Expected = &astraguardv1.Expectation{Value: 1.5, Lower: 1.5, Upper: 1.5}
	if withError {
		v.Score, v.Anomaly, v.Source = 0, false, 0
		for _, e := range sampleErrors {
			if proto.Size(e) > proto.Size(v.Error) {
				v.Error = e
			}
		}
	}
	return v
}

// longestScalar is the value of fd's kind with the longest encoding.
func longestScalar(fd protoreflect.FieldDescriptor) (protoreflect.Value, bool) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true), true
	case protoreflect.EnumKind:
		vals, top := fd.Enum().Values(), protoreflect.EnumNumber(0)
		for i := range vals.Len() {
			top = max(top, vals.Get(i).Number())
		}
		return protoreflect.ValueOfEnum(top), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(math.MinInt32), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(math.MinInt64), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(math.MaxUint32), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(math.MaxUint64), true
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(1.5), true
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(1.5), true
	case protoreflect.StringKind:
		if fd.Name() == "policy" { // names are bounded where policies are built
			return protoreflect.ValueOfString(strings.Repeat("p", detector.MaxPolicyNameBytes)), true
		}
	}
	return protoreflect.Value{}, false
}

// lenField is the encoded size of a length-delimited field of n bytes
// (field numbers below 16 take a one-byte tag).
func lenField(n int) int64 { return int64(1 + protowire.SizeVarint(uint64(n)) + n) }

// verdictBound bounds one verdict in a response, its series id echoed in
// at most idLen bytes.
func verdictBound(idLen int) int64 {
	inner := int64(verdictFixed)
	if idLen > 0 {
		inner += lenField(idLen)
	}
	return lenField(int(inner))
}

// echoLen bounds the bytes echoID(id, max) returns without building it:
// a mended id may grow (U+FFFD takes 3 bytes) but never beyond max.
func echoLen(id string, max int) int {
	if len(id) > max || !utf8.ValidString(id) {
		return min(3*len(id), max)
	}
	return len(id)
}

// responseBound bounds the encoded size of the response to a request (a
// DetectResponse and a DetectBatchResponse are the same shape). It costs
// one step per series and per channel and reads each id once, so it can
// run on every request before scoring.
func responseBound(requestID string, series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame, maxID int) int64 {
	var n int64
	if requestID != "" {
		l := len(requestID)
		if !utf8.ValidString(requestID) {
			l *= 3
		}
		n += lenField(l)
	}
	for _, s := range series {
		n += int64(len(s.GetValues())) * verdictBound(echoLen(s.GetSeriesId(), maxID))
	}
	for _, f := range frames {
		src := f.GetSource()
		if src == "" {
			n += int64(len(f.GetChannels())) * verdictBound(0)
			continue
		}
		// A frame id is "<source>/<name>", echoed in at most maxID bytes.
		srcOK := len(src) < maxID && utf8.ValidString(src)
		for _, c := range f.GetChannels() {
			name, l := c.GetName(), 0
			switch {
			case name == "":
			case !srcOK || len(src)+1+len(name) > maxID || !utf8.ValidString(name):
				l = maxID
			default:
				l = len(src) + 1 + len(name)
			}
			n += verdictBound(l)
		}
	}
	return n
}

// checkResponseSize refuses a request whose response could exceed
// MaxSendMsgBytes, before it is scored: a response larger than a client's
// receive limit (4 MiB by default in gRPC) cannot be read, and on Detect
// it would end the stream. It returns the bound.
func (s *DetectorService) checkResponseSize(requestID string, series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) (int64, error) {
	n := responseBound(requestID, series, frames, s.maxID)
	if n > int64(s.cfg.MaxSendMsgBytes) {
		return n, &LimitError{Limit: LimitResponseSize, Max: s.cfg.MaxSendMsgBytes, Got: int(n)}
	}
	return n, nil
}
