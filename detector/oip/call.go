package oip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/gen/inference"
)

// ServiceConfig is the gRPC service config NewConn installs: ModelInfer is
// retried on UNAVAILABLE (up to 3 attempts in all, 5-100ms exponential
// backoff with gRPC's jitter, inside the call's deadline), and
// retryThrottling stops retries while more than about half of the recent
// calls fail, so a struggling model server is not sent more traffic.
// Besides these, gRPC retries transparently, and at no cost, calls that
// never reached the server.
//
// UNAVAILABLE may come after the server applied the call (the connection
// broke on the way back), so a retry is safe only because every Predict
// sends a ModelInferRequest id unique to that call and astraguard-model
// (modelserver) answers a repeated id from memory instead of applying it
// twice. For a model server that is stateful and does not deduplicate by
// id, pass grpc.WithDisableRetry() to NewConn.
//
// Retries need the request buffered: gRPC buffers at most 256 KiB per call
// (about 9,000 samples), and a larger call is never retried.
const ServiceConfig = `{
  "methodConfig": [{
    "name": [{"service": "inference.GRPCInferenceService", "method": "ModelInfer"}],
    "retryPolicy": {
      "maxAttempts": 3,
      "initialBackoff": "0.005s",
      "maxBackoff": "0.1s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }],
  "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}
}`

// requestIDs makes ModelInferRequest ids unique per call and per process:
// a random prefix (several service instances share one model server) and
// a counter.
type requestIDs struct {
	prefix string
}

func newRequestIDs() requestIDs {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return requestIDs{prefix: "ag-" + hex.EncodeToString(b[:]) + "-"}
}

func (r requestIDs) id(n uint64) string { return r.prefix + strconv.FormatUint(n, 36) }

// infer makes one ModelInfer call; gRPC retries it as ServiceConfig says.
func (c *Client) infer(ctx context.Context, req *inference.ModelInferRequest) (*inference.ModelInferResponse, error) {
	req.Id = c.ids.id(c.calls.Add(1))
	resp, err := c.rpc.ModelInfer(ctx, req)
	if err != nil {
		return nil, wrap(ctx, err)
	}
	return resp, nil
}

// wrap keeps err's gRPC status reachable by status.Code and, when the
// caller's context ended, makes errors.Is match its error too. A
// DeadlineExceeded status also matches context.DeadlineExceeded: the
// deadline travels with the call and the server may see it expire a moment
// before the client does.
func wrap(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil && status.Code(err) == codes.DeadlineExceeded {
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		return fmt.Errorf("model infer: %w: %w", err, cerr)
	}
	return fmt.Errorf("model infer: %w", err)
}
