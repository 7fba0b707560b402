package oip

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/gen/inference"
)

// infer calls ModelInfer, retrying transient failures inside ctx's
// deadline.
func (c *Client) infer(ctx context.Context, req *inference.ModelInferRequest) (*inference.ModelInferResponse, error) {
	p := c.cfg.Retry
	for attempt := 1; ; attempt++ {
		resp, err := c.rpc.ModelInfer(ctx, req)
		if err == nil {
			return resp, nil
		}
		if attempt >= p.MaxAttempts || !c.retryable(err) || ctx.Err() != nil {
			return nil, c.wrap(ctx, err, attempt)
		}
		wait := c.opts.jitter(backoffCap(p, attempt))
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			return nil, c.wrap(ctx, err, attempt) // no budget left for the wait
		}
		if !sleep(ctx, wait) {
			return nil, c.wrap(ctx, err, attempt)
		}
	}
}

// retryable reports whether err is a transient server condition. Never
// DeadlineExceeded or Canceled (the budget is gone), nor InvalidArgument and
// the like (the same request fails the same way).
func (c *Client) retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.Aborted:
		return true
	case codes.ResourceExhausted:
		return c.cfg.Retry.RetryResourceExhausted
	default:
		return false
	}
}

// wrap keeps err's gRPC status reachable by status.Code and, when the
// caller's context ended, makes errors.Is match its error too. A
// DeadlineExceeded status also matches context.DeadlineExceeded: the
// deadline travels with the call and the server may see it expire a moment
// before the client does.
func (c *Client) wrap(ctx context.Context, err error, attempt int) error {
	cerr := ctx.Err()
	if cerr == nil && status.Code(err) == codes.DeadlineExceeded {
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		return fmt.Errorf("model infer (attempt %d of %d): %w: %w", attempt, c.cfg.Retry.MaxAttempts, err, cerr)
	}
	return fmt.Errorf("model infer (attempt %d of %d): %w", attempt, c.cfg.Retry.MaxAttempts, err)
}

// backoffCap is the upper bound of the wait before retry number attempt
// (1-based): BaseBackoff doubled per earlier retry, capped at MaxBackoff.
func backoffCap(p RetryPolicy, attempt int) time.Duration {
	d := p.BaseBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

// sleep waits d or until ctx ends, reporting whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
