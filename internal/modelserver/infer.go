package modelserver

import (
	"context"
	"encoding/binary"
	"math"
	"time"

	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/oipwire"
)

// ModelInfer scores the request's samples (see the package comment for the
// layout) and echoes its id. Invalid requests change no state, and a
// request repeating a recent one (same id, same content) gets the same
// answer without being applied again.
func (s *Server) ModelInfer(ctx context.Context, req *inference.ModelInferRequest) (*inference.ModelInferResponse, error) {
	if err := s.checkModel(req.GetModelName(), req.GetModelVersion()); err != nil {
		return nil, err
	}
	if len(req.GetId()) > MaxRequestIDBytes {
		return nil, invalid("request id is %d bytes, at most %d", len(req.GetId()), MaxRequestIDBytes)
	}
	b, err := s.parse(req)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		// The caller is gone: scoring now would move series state on
		// without anyone seeing the verdicts.
		return nil, status.FromContextError(err).Err()
	}
	if req.GetId() == "" {
		return s.answer(ctx, req, b)
	}
	// A request id makes the call idempotent: a resent request (its first
	// answer lost on the way back) gets the first answer again and leaves
	// the series state alone.
	resp, e, err := s.replays.begin(ctx, req.GetId(), s.replays.fingerprint(req, b), len(b.values), s.opts.now())
	switch {
	case err != nil:
		return nil, status.FromContextError(err).Err()
	case resp != nil:
		s.opts.logger.DebugContext(ctx, "resent request answered from memory", "id", req.GetId())
		return resp, nil
	}
	resp, err = s.answer(ctx, req, b)
	s.replays.finish(e, resp)
	return resp, err
}

func (s *Server) answer(ctx context.Context, req *inference.ModelInferRequest, b *batch) (*inference.ModelInferResponse, error) {
	res, err := s.score(ctx, b)
	if err != nil {
		return nil, err
	}
	return s.response(req, b, res), nil
}

func (s *Server) score(ctx context.Context, b *batch) ([]model.Result, error) {
	n := len(b.values)
	if b.stamps == nil {
		now := s.opts.now().UnixNano()
		b.stamps = make([]int64, n)
		for i := range b.stamps {
			b.stamps[i] = now
		}
	}
	res := make([]model.Result, n)
	now := s.opts.now()
	if b.start && s.series.Delete(b.seq) {
		s.opts.logger.DebugContext(ctx, "series forgotten at sequence start")
	}
	for lo := 0; lo < n; {
		hi, id := lo+1, b.seq
		if b.ids != nil {
			for hi < n && string(b.ids[hi]) == string(b.ids[lo]) {
				hi++
			}
			id = string(b.ids[lo])
		} else {
			hi = n
		}
		s.scoreSeries(id, now, b.stamps[lo:hi], b.values[lo:hi], res[lo:hi])
		lo = hi
	}
	if b.end && s.series.Delete(b.seq) {
		s.opts.logger.DebugContext(ctx, "series forgotten at sequence end")
	}
	return res, nil
}

// scoreSeries updates one series' model state with its samples while it
// owns the series' entry, so concurrent requests for one series apply
// whole runs one after the other.
func (s *Server) scoreSeries(id string, now time.Time, stamps []int64, values []float64, out []model.Result) {
	ref := s.series.Acquire(id, now)
	defer ref.Release() // also on a panic, which the recovery interceptor answers
	d := ref.Value()
	if ref.Created() {
		*d = s.tmpl.NewDetector()
	}
	for i, v := range values {
		out[i] = d.Update(stamps[i], v)
	}
}

func (s *Server) response(req *inference.ModelInferRequest, b *batch, res []model.Result) *inference.ModelInferResponse {
	resp := &inference.ModelInferResponse{
		ModelName:    s.cfg.ModelName,
		ModelVersion: s.cfg.ModelVersion,
		Id:           req.GetId(),
		Parameters: map[string]*inference.InferParameter{
			oipwire.ParamInstanceID: {ParameterChoice: &inference.InferParameter_StringParam{StringParam: s.opts.instanceID}},
		},
	}
	for _, name := range b.outputs {
		o := &inference.ModelInferResponse_InferOutputTensor{Name: name, Datatype: outputType(name), Shape: b.shape}
		if b.typed {
			o.Contents = typedOutput(name, res)
		} else {
			resp.RawOutputContents = append(resp.RawOutputContents, rawOutput(name, res))
		}
		resp.Outputs = append(resp.Outputs, o)
	}
	return resp
}

// outputType is an output's datatype.
func outputType(name string) string {
	switch name {
	case oipwire.OutputAnomaly, oipwire.OutputWarm:
		return "BOOL"
	case oipwire.OutputMechanism:
		return "BYTES"
	}
	return "FP64"
}

// fp64Of returns the FP64 output name's value for one result.
func fp64Of(name string, r *model.Result) float64 {
	switch name {
	case oipwire.OutputExpected:
		return r.Expected
	case oipwire.OutputExpectedLower:
		return r.Lower
	case oipwire.OutputExpectedUpper:
		return r.Upper
	}
	return r.Score
}

// boolOf returns the BOOL output name's value for one result.
func boolOf(name string, r *model.Result) bool {
	if name == oipwire.OutputAnomaly {
		return r.Anomaly
	}
	return r.Warm
}

// rawOutput encodes one output as Triton does: FP64 as 8 little-endian
// bytes per element, BOOL as one byte (0 or 1), BYTES as a 4-byte
// little-endian length before each element.
func rawOutput(name string, res []model.Result) []byte {
	switch outputType(name) {
	case "FP64":
		b := make([]byte, 8*len(res))
		for i := range res {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(fp64Of(name, &res[i])))
		}
		return b
	case "BYTES":
		var b []byte
		for _, r := range res {
			m := mechanismNames[r.Mechanism]
			b = binary.LittleEndian.AppendUint32(b, uint32(len(m)))
			b = append(b, m...)
		}
		return b
	}
	b := make([]byte, len(res))
	for i := range res {
		if boolOf(name, &res[i]) {
			b[i] = 1
		}
	}
	return b
}

func typedOutput(name string, res []model.Result) *inference.InferTensorContents {
	c := &inference.InferTensorContents{}
	switch outputType(name) {
	case "FP64":
		c.Fp64Contents = make([]float64, len(res))
		for i := range res {
			c.Fp64Contents[i] = fp64Of(name, &res[i])
		}
	case "BYTES":
		c.BytesContents = make([][]byte, len(res))
		for i, r := range res {
			c.BytesContents[i] = mechanismNames[r.Mechanism]
		}
	default:
		c.BoolContents = make([]bool, len(res))
		for i := range res {
			c.BoolContents[i] = boolOf(name, &res[i])
		}
	}
	return c
}

// mechanismNames holds each mechanism's name once, so a response shares
// the bytes instead of converting per sample.
var mechanismNames = func() map[model.Mechanism][]byte {
	m := map[model.Mechanism][]byte{}
	for k := model.Mechanism(0); k.String() != "unknown"; k++ {
		m[k] = []byte(k.String())
	}
	return m
}()
