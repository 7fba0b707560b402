package modelserver

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/oipwire"
)

// batch is a validated ModelInferRequest.
type batch struct {
	shape      []int64 // of the value input; outputs get it too
	values     []float64
	stamps     []int64  // nil: stamp every sample with the receive time
	ids        [][]byte // nil: every sample belongs to seq
	seq        string
	start, end bool
	outputs    []string // requested outputs, in order
	typed      bool     // answer in typed contents, not raw_output_contents
}

// parse validates req against the layout; every error is InvalidArgument.
func (s *Server) parse(req *inference.ModelInferRequest) (*batch, error) {
	b := &batch{}
	if err := b.parseParams(req.GetParameters()); err != nil {
		return nil, err
	}
	raw := req.GetRawInputContents()
	if len(raw) > 0 && len(raw) != len(req.GetInputs()) {
		return nil, invalid("%d raw_input_contents for %d inputs", len(raw), len(req.GetInputs()))
	}
	seen := map[string]bool{}
	for i, in := range req.GetInputs() {
		if seen[in.GetName()] {
			return nil, invalid("input %s appears twice", quote(in.GetName()))
		}
		seen[in.GetName()] = true
		var r []byte
		if len(raw) > 0 {
			r = raw[i]
		}
		if err := s.parseInput(b, in, r); err != nil {
			return nil, err
		}
	}
	if err := s.check(b); err != nil {
		return nil, err
	}
	return b, b.parseOutputs(req.GetOutputs())
}

func (b *batch) parseParams(p map[string]*inference.InferParameter) error {
	if v, ok := p[ParamSequenceID]; ok {
		switch c := v.GetParameterChoice().(type) {
		case *inference.InferParameter_StringParam:
			b.seq = c.StringParam
		case *inference.InferParameter_Int64Param:
			b.seq = strconv.FormatInt(c.Int64Param, 10)
		case *inference.InferParameter_Uint64Param:
			b.seq = strconv.FormatUint(c.Uint64Param, 10)
		default:
			return invalid("parameter %q must be a string or an integer", ParamSequenceID)
		}
		if b.seq == "" {
			return invalid("parameter %q is empty", ParamSequenceID)
		}
	}
	for name, dst := range map[string]*bool{ParamSequenceStart: &b.start, ParamSequenceEnd: &b.end} {
		if v, ok := p[name]; ok {
			c, ok := v.GetParameterChoice().(*inference.InferParameter_BoolParam)
			if !ok {
				return invalid("parameter %q must be a bool", name)
			}
			*dst = c.BoolParam
		}
	}
	if v, ok := p[ParamBinaryDataOutput]; ok {
		c, ok := v.GetParameterChoice().(*inference.InferParameter_BoolParam)
		if !ok {
			return invalid("parameter %q must be a bool", ParamBinaryDataOutput)
		}
		b.typed = !c.BoolParam
	}
	if (b.start || b.end) && b.seq == "" {
		return invalid("parameters %q and %q need %q", ParamSequenceStart, ParamSequenceEnd, ParamSequenceID)
	}
	return nil
}

func (s *Server) parseInput(b *batch, in *inference.ModelInferRequest_InferInputTensor, raw []byte) error {
	name, c := in.GetName(), in.GetContents()
	want := map[string]string{oipwire.InputValue: "FP64", oipwire.InputTimestamp: "INT64", oipwire.InputSeriesID: "BYTES"}[name]
	if want == "" {
		return invalid("unknown input %s: want %q, %q or %q", quote(name), oipwire.InputValue, oipwire.InputTimestamp, oipwire.InputSeriesID)
	}
	if in.GetDatatype() != want {
		return invalid("input %q has datatype %s, want %q", name, quote(in.GetDatatype()), want)
	}
	n, err := s.elements(name, in.GetShape())
	if err != nil {
		return err
	}
	var got int
	switch name {
	case oipwire.InputValue:
		b.shape, b.values = in.GetShape(), c.GetFp64Contents()
		if raw != nil {
			b.values, err = rawFP64(name, raw)
		}
		got = len(b.values)
	case oipwire.InputTimestamp:
		b.stamps = c.GetInt64Contents()
		if raw != nil {
			b.stamps, err = rawInt64(name, raw)
		}
		got = len(b.stamps)
	case oipwire.InputSeriesID:
		b.ids = c.GetBytesContents()
		if raw != nil {
			b.ids, err = rawBytes(name, raw, n)
		}
		got = len(b.ids)
	}
	if err != nil {
		return err
	}
	if got != n {
		return invalid("input %q has shape %v (%d elements) but %d elements of data", name, in.GetShape(), n, got)
	}
	return nil
}

// elements returns the element count of shape, at most Config.MaxBatch.
func (s *Server) elements(name string, shape []int64) (int, error) {
	switch {
	case len(shape) == 0:
		return 0, invalid("input %q has no shape", name)
	case len(shape) > MaxDims:
		// Every output echoes the value input's shape, and errors quote
		// it: a shape of a million dimensions of 1 (a byte each) came
		// back seven times in the answer.
		return 0, invalid("input %q has %d dimensions, at most %d", name, len(shape), MaxDims)
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, invalid("input %q has negative dimension in shape %v", name, shape)
		}
		// Compared before multiplying: a product past int64 would wrap
		// (7 × 7905747460161236407 is 1) and pass the bound.
		if d > 0 && n > int64(s.cfg.MaxBatch)/d {
			return 0, invalid("input %q has shape %v: more than %d elements", name, shape, s.cfg.MaxBatch)
		}
		n *= d
	}
	return int(n), nil
}

// check validates the inputs against each other.
func (s *Server) check(b *batch) error {
	n := len(b.values)
	switch {
	case b.shape == nil:
		return invalid("input %q is required", oipwire.InputValue)
	case n == 0:
		return invalid("input %q has no elements", oipwire.InputValue)
	case b.stamps != nil && len(b.stamps) != n:
		return invalid("input %q has %d elements, input %q has %d", oipwire.InputTimestamp, len(b.stamps), oipwire.InputValue, n)
	case b.ids != nil && len(b.ids) != n:
		return invalid("input %q has %d elements, input %q has %d", oipwire.InputSeriesID, len(b.ids), oipwire.InputValue, n)
	case b.ids != nil && b.seq != "":
		return invalid("give the series as input %q or as parameter %q, not both", oipwire.InputSeriesID, ParamSequenceID)
	case b.ids == nil && b.seq == "":
		return invalid("no series: give input %q or parameter %q", oipwire.InputSeriesID, ParamSequenceID)
	}
	if len(b.seq) > s.cfg.MaxSeriesIDBytes || !utf8.ValidString(b.seq) {
		return invalid("parameter %q is not valid UTF-8 of at most %d bytes", ParamSequenceID, s.cfg.MaxSeriesIDBytes)
	}
	for i, v := range b.values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return invalid("input %q: element %d is %v; values must be finite", oipwire.InputValue, i, v)
		}
	}
	for i, id := range b.ids {
		if len(id) == 0 || len(id) > s.cfg.MaxSeriesIDBytes || !utf8.Valid(id) {
			return invalid("input %q: element %d is not a non-empty UTF-8 id of at most %d bytes", oipwire.InputSeriesID, i, s.cfg.MaxSeriesIDBytes)
		}
	}
	return checkOrder(b)
}

// checkOrder verifies timestamps never go back within a series, also when
// a series' samples are not contiguous.
func checkOrder(b *batch) error {
	var last map[string]int // series -> index of its latest sample, once a second run appears
	for i := 1; i < len(b.stamps); i++ {
		prev := i - 1
		if b.ids != nil && string(b.ids[i]) != string(b.ids[prev]) {
			if last == nil {
				last = map[string]int{}
			}
			last[string(b.ids[prev])] = prev
			j, ok := last[string(b.ids[i])]
			if !ok {
				continue
			}
			prev = j
		}
		if b.stamps[i] < b.stamps[prev] {
			return invalid("input %q: element %d is earlier than element %d of the same series", oipwire.InputTimestamp, i, prev)
		}
	}
	return nil
}

// allOutputs are the outputs sent when a request names none, in this order.
var allOutputs = []string{oipwire.OutputScore, oipwire.OutputAnomaly, oipwire.OutputWarm, oipwire.OutputMechanism, oipwire.OutputExpected, oipwire.OutputExpectedLower, oipwire.OutputExpectedUpper}

func (b *batch) parseOutputs(req []*inference.ModelInferRequest_InferRequestedOutputTensor) error {
	if len(req) == 0 {
		b.outputs = allOutputs
		return nil
	}
	for _, o := range req {
		if !slices.Contains(allOutputs, o.GetName()) {
			return invalid("unknown output %s: want one of %q", quote(o.GetName()), allOutputs)
		}
		// Each output is built whole, as large as the batch: an output
		// listed a thousand times in a request of 100,000 values (under
		// 1 MB) made a response of 800 MB.
		if slices.Contains(b.outputs, o.GetName()) {
			return invalid("output %q requested twice", o.GetName())
		}
		b.outputs = append(b.outputs, o.GetName())
		if v, ok := o.GetParameters()[ParamBinaryData]; ok {
			c, ok := v.GetParameterChoice().(*inference.InferParameter_BoolParam)
			if !ok {
				return invalid("output %q: parameter %q must be a bool", o.GetName(), ParamBinaryData)
			}
			// One form per response: raw_output_contents is indexed
			// like outputs, so any output asking for typed contents
			// gets them for all.
			b.typed = b.typed || !c.BoolParam
		}
	}
	return nil
}

func rawFP64(name string, raw []byte) ([]float64, error) {
	if len(raw)%8 != 0 {
		return nil, invalid("input %q: %d raw bytes is not a whole number of FP64", name, len(raw))
	}
	out := make([]float64, len(raw)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out, nil
}

func rawInt64(name string, raw []byte) ([]int64, error) {
	if len(raw)%8 != 0 {
		return nil, invalid("input %q: %d raw bytes is not a whole number of INT64", name, len(raw))
	}
	out := make([]int64, len(raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out, nil
}

// rawBytes splits Triton's BYTES serialisation: each element is a 4-byte
// little-endian length followed by that many bytes. max bounds the count.
func rawBytes(name string, raw []byte, max int) ([][]byte, error) {
	var out [][]byte
	for len(raw) > 0 {
		if len(raw) < 4 || len(out) >= max {
			return nil, invalid("input %q: malformed raw BYTES contents", name)
		}
		l := binary.LittleEndian.Uint32(raw)
		raw = raw[4:]
		if uint64(l) > uint64(len(raw)) {
			return nil, invalid("input %q: malformed raw BYTES contents", name)
		}
		out = append(out, raw[:l:l])
		raw = raw[l:]
	}
	return out, nil
}
