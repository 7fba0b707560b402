package oip

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/gen/inference"
)

// decode checks resp against the output layout and fills out. It reads the
// typed contents, or raw_output_contents when the server sent those (as
// Triton does); out may be partly written when it fails.
func decode(resp *inference.ModelInferResponse, out []detector.Prediction) error {
	n := len(out)
	outputs, raw := resp.GetOutputs(), resp.GetRawOutputContents()
	if len(raw) > 0 && len(raw) != len(outputs) {
		return fmt.Errorf("%w: %d raw output contents for %d outputs", ErrBadResponse, len(raw), len(outputs))
	}
	var seen [numOutputs]bool
	for i, o := range outputs {
		k := -1
		for j, s := range allSpecs {
			if o.GetName() == s.name {
				k = j
			}
		}
		if k < 0 {
			continue // an extra output we did not ask for is harmless
		}
		if seen[k] {
			return fmt.Errorf("%w: output %q appears twice", ErrBadResponse, o.GetName())
		}
		seen[k] = true
		if o.GetDatatype() != allSpecs[k].datatype {
			return fmt.Errorf("%w: output %q is %s, want %s", ErrBadResponse, o.GetName(), o.GetDatatype(), allSpecs[k].datatype)
		}
		if !shapeHolds(o.GetShape(), n) {
			return fmt.Errorf("%w: output %q has shape %v, want [%d]", ErrBadResponse, o.GetName(), o.GetShape(), n)
		}
		var b []byte
		if len(raw) > 0 {
			b = raw[i]
		}
		if err := decodeOutput(k, o.GetContents(), b, out); err != nil {
			return fmt.Errorf("%w: output %q: %w", ErrBadResponse, o.GetName(), err)
		}
	}
	for k := range outputSpecs {
		if !seen[k] {
			return fmt.Errorf("%w: output %q missing", ErrBadResponse, outputSpecs[k].name)
		}
	}
	if seen[outExpected] && seen[outLower] && seen[outUpper] {
		for i := range out {
			out[i].Explain.HasBand = out[i].Warm
		}
	}
	return nil
}

func decodeOutput(k int, c *inference.InferTensorContents, raw []byte, out []detector.Prediction) error {
	switch k {
	case outMechanism:
		return decodeMechanism(c, raw, out)
	case outExpected, outLower, outUpper:
		return decodeFP64(c, raw, out, func(p *detector.Prediction) *float64 {
			switch k {
			case outExpected:
				return &p.Explain.Expected
			case outLower:
				return &p.Explain.Lower
			}
			return &p.Explain.Upper
		})
	}
	n := len(out)
	if raw != nil {
		size := 1
		if k == 0 {
			size = 8
		}
		if len(raw) != n*size {
			return fmt.Errorf("%d raw bytes, want %d", len(raw), n*size)
		}
		for i := range out {
			switch k {
			case 0:
				out[i].Score = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			case 1:
				out[i].Anomaly = raw[i] != 0
			default:
				out[i].Warm = raw[i] != 0
			}
		}
		return nil
	}
	if k == 0 {
		s := c.GetFp64Contents()
		if len(s) != n {
			return fmt.Errorf("%d values, want %d", len(s), n)
		}
		for i, v := range s {
			out[i].Score = v
		}
		return nil
	}
	s := c.GetBoolContents()
	if len(s) != n {
		return fmt.Errorf("%d values, want %d", len(s), n)
	}
	for i, v := range s {
		if k == 1 {
			out[i].Anomaly = v
		} else {
			out[i].Warm = v
		}
	}
	return nil
}

// decodeFP64 reads an FP64 output into the field at(p) of each prediction.
func decodeFP64(c *inference.InferTensorContents, raw []byte, out []detector.Prediction, at func(*detector.Prediction) *float64) error {
	if raw != nil {
		if len(raw) != 8*len(out) {
			return fmt.Errorf("%d raw bytes, want %d", len(raw), 8*len(out))
		}
		for i := range out {
			*at(&out[i]) = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return nil
	}
	s := c.GetFp64Contents()
	if len(s) != len(out) {
		return fmt.Errorf("%d values, want %d", len(s), len(out))
	}
	for i, v := range s {
		*at(&out[i]) = v
	}
	return nil
}

// decodeMechanism reads the mechanism names, typed or in Triton's raw
// BYTES serialisation (a 4-byte little-endian length before each element).
func decodeMechanism(c *inference.InferTensorContents, raw []byte, out []detector.Prediction) error {
	if raw != nil {
		for i := range out {
			if len(raw) < 4 {
				return fmt.Errorf("malformed raw BYTES: %d elements, want %d", i, len(out))
			}
			l := binary.LittleEndian.Uint32(raw)
			raw = raw[4:]
			if uint64(l) > uint64(len(raw)) {
				return fmt.Errorf("malformed raw BYTES: element %d overruns", i)
			}
			out[i].Explain.Mechanism = detector.ParseMechanism(string(raw[:l]))
			raw = raw[l:]
		}
		if len(raw) != 0 {
			return fmt.Errorf("malformed raw BYTES: more than %d elements", len(out))
		}
		return nil
	}
	s := c.GetBytesContents()
	if len(s) != len(out) {
		return fmt.Errorf("%d values, want %d", len(s), len(out))
	}
	for i, b := range s {
		out[i].Explain.Mechanism = detector.ParseMechanism(string(b))
	}
	return nil
}

// shapeHolds reports whether shape describes n elements: [n], or [n]
// with extra unit dimensions such as [1, n] (a batch of one). An empty shape
// is accepted as unspecified; the element count is checked anyway.
func shapeHolds(shape []int64, n int) bool {
	if len(shape) == 0 {
		return true
	}
	prod := int64(1)
	for _, d := range shape {
		// Compared before multiplying: a product past int64 would wrap
		// (7 × 7905747460161236407 is 1) and could match n.
		if d < 0 || d > 0 && prod > math.MaxInt64/d {
			return false
		}
		prod *= d
	}
	return prod == int64(n)
}
