package oip

import (
	"context"
	"fmt"

	"github.com/astraguard/astraguard/gen/inference"
)

// CheckReady reports whether the model can serve: the server is ready, the
// model (Config.ModelName and ModelVersion) is ready, and its metadata
// declares the inputs and outputs of the tensor layout. A failure wraps
// ErrNotReady (or keeps the gRPC status of a failed call) and increments
// the WithLoadErrors counter.
//
// Call it at start-up before marking the service ready, and again whenever
// the breaker around this Client goes half-open, so a model server that came
// back with another model is caught before traffic returns to it. It uses
// ctx's deadline for all three calls and does not retry.
func (c *Client) CheckReady(ctx context.Context) error {
	err := c.checkReady(ctx)
	if err != nil && c.opts.loadErrors != nil {
		c.opts.loadErrors.Inc()
	}
	return err
}

func (c *Client) checkReady(ctx context.Context) error {
	sr, err := c.rpc.ServerReady(ctx, &inference.ServerReadyRequest{})
	if err != nil {
		return fmt.Errorf("check model server ready: %w", err)
	}
	if !sr.GetReady() {
		return fmt.Errorf("check model server ready: %w: server not ready", ErrNotReady)
	}
	name, version := c.cfg.ModelName, c.cfg.ModelVersion
	mr, err := c.rpc.ModelReady(ctx, &inference.ModelReadyRequest{Name: name, Version: version})
	if err != nil {
		return fmt.Errorf("check model %q ready: %w", name, err)
	}
	if !mr.GetReady() {
		return fmt.Errorf("check model %q ready: %w: model not ready", name, ErrNotReady)
	}
	md, err := c.rpc.ModelMetadata(ctx, &inference.ModelMetadataRequest{Name: name, Version: version})
	if err != nil {
		return fmt.Errorf("check model %q metadata: %w", name, err)
	}
	if err := checkTensors("input", md.GetInputs(), inputSpecs); err != nil {
		return fmt.Errorf("check model %q metadata: %w", name, err)
	}
	if err := checkTensors("output", md.GetOutputs(), outputSpecs); err != nil {
		return fmt.Errorf("check model %q metadata: %w", name, err)
	}
	return nil
}

// checkTensors verifies every spec is declared with its datatype and a
// rank-1 (or batch-of-one) shape; extra tensors are allowed.
func checkTensors(kind string, got []*inference.ModelMetadataResponse_TensorMetadata, want []tensorSpec) error {
	for _, s := range want {
		var t *inference.ModelMetadataResponse_TensorMetadata
		for _, g := range got {
			if g.GetName() == s.name {
				t = g
			}
		}
		switch {
		case t == nil:
			return fmt.Errorf("%w: %s %q not declared", ErrNotReady, kind, s.name)
		case t.GetDatatype() != s.datatype:
			return fmt.Errorf("%w: %s %q is %s, want %s", ErrNotReady, kind, s.name, t.GetDatatype(), s.datatype)
		case !variableVector(t.GetShape()):
			return fmt.Errorf("%w: %s %q has shape %v, want [-1]", ErrNotReady, kind, s.name, t.GetShape())
		}
	}
	return nil
}

// variableVector reports whether shape admits a vector of any length: one
// variable (-1) dimension and otherwise unit dimensions.
func variableVector(shape []int64) bool {
	vars := 0
	for _, d := range shape {
		switch d {
		case -1:
			vars++
		case 1:
		default:
			return false
		}
	}
	return vars == 1
}
