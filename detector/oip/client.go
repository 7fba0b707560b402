package oip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"

	"github.com/astraguard/astraguard/detector"
	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/oipwire"
)

var _ detector.Model = (*Client)(nil)

// maxPooledSamples bounds the request buffers kept for reuse, so one huge
// batch does not pin its memory for the life of the process.
const maxPooledSamples = 1 << 16

// Client is a detector.Model backed by a remote Open Inference Protocol
// server. It is safe for concurrent use.
type Client struct {
	rpc  inference.GRPCInferenceServiceClient
	cfg  Config
	opts options

	requests sync.Pool // *request
	ids      requestIDs
	calls    atomic.Uint64

	instance atomic.Pointer[string] // last instance_id seen; nil before the first
	restarts atomic.Uint64
}

// New returns a Client calling conn (typically from NewConn or
// grpc.NewClient). It makes no call: use CheckReady to verify the model.
func New(conn grpc.ClientConnInterface, cfg Config, opts ...Option) (*Client, error) {
	if conn == nil {
		return nil, errors.New("new oip client: nil conn")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("new oip client: %w", err)
	}
	c := &Client{rpc: inference.NewGRPCInferenceServiceClient(conn), cfg: cfg, opts: evaluateOptions(opts), ids: newRequestIDs()}
	c.opts.logger = c.opts.logger.With("component", "oip", "model", cfg.ModelName)
	c.requests.New = func() any { return newRequest(cfg) }
	return c, nil
}

// Predict scores all samples of in with ONE ModelInfer call, under a
// request id of its own (gRPC may resend it: see ServiceConfig), and fills
// out[i] for the i-th sample across groups.
// Every group must carry one timestamp per value. Errors keep the gRPC
// status code (status.Code(err)); a malformed response wraps
// ErrBadResponse; when ctx ended the error also wraps ctx.Err().
func (c *Client) Predict(ctx context.Context, in []detector.Group, out []detector.Prediction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n, err := detector.BatchSize(in, out)
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	req := c.requests.Get().(*request)
	req.fill(in, n)
	resp, err := c.infer(ctx, req.msg)
	req.reset()
	if n <= maxPooledSamples {
		c.requests.Put(req)
	}
	if err != nil {
		return err
	}
	if err := decode(resp, out[:n]); err != nil {
		return fmt.Errorf("model infer: %w", err)
	}
	c.observeInstance(ctx, resp)
	return nil
}

// InstanceID returns the model server's instance_id from the last response
// that carried one, or "" before that.
func (c *Client) InstanceID() string {
	if p := c.instance.Load(); p != nil {
		return *p
	}
	return ""
}

// Restarts returns how many times the model server's instance_id changed,
// i.e. how often it restarted (and lost its per-series state) while this
// Client was watching.
func (c *Client) Restarts() uint64 { return c.restarts.Load() }

func (c *Client) observeInstance(ctx context.Context, resp *inference.ModelInferResponse) {
	id := resp.GetParameters()[oipwire.ParamInstanceID].GetStringParam()
	if id == "" {
		return
	}
	for {
		old := c.instance.Load()
		if old != nil && *old == id {
			return
		}
		if c.instance.CompareAndSwap(old, &id) {
			if old == nil {
				c.opts.logger.InfoContext(ctx, "model server seen", "instance_id", logID(id))
				return
			}
			c.restarts.Add(1)
			if c.opts.restarts != nil {
				c.opts.restarts.Inc()
			}
			c.opts.logger.WarnContext(ctx, "model server restarted: its series state is new, series warm up again",
				"instance_id", logID(id), "previous_instance_id", logID(*old))
			return
		}
	}
}

// request is a reusable ModelInferRequest in the wire layout.
type request struct {
	msg            *inference.ModelInferRequest
	ids, ts, value *inference.ModelInferRequest_InferInputTensor
}

func newRequest(cfg Config) *request {
	tensor := func(name, datatype string) *inference.ModelInferRequest_InferInputTensor {
		return &inference.ModelInferRequest_InferInputTensor{
			Name: name, Datatype: datatype, Shape: []int64{0}, Contents: &inference.InferTensorContents{},
		}
	}
	r := &request{
		ids:   tensor(oipwire.InputSeriesID, typeBytes),
		ts:    tensor(oipwire.InputTimestamp, typeInt64),
		value: tensor(oipwire.InputValue, typeFP64),
	}
	r.msg = &inference.ModelInferRequest{
		ModelName:    cfg.ModelName,
		ModelVersion: cfg.ModelVersion,
		Inputs:       []*inference.ModelInferRequest_InferInputTensor{r.ids, r.ts, r.value},
	}
	return r
}

func (r *request) fill(in []detector.Group, n int) {
	ids, ts, vs := r.ids.Contents.BytesContents[:0], r.ts.Contents.Int64Contents[:0], r.value.Contents.Fp64Contents[:0]
	for _, g := range in {
		if len(g.Values) == 0 {
			continue
		}
		id := []byte(g.SeriesID) // shared by the group's samples
		for range g.Values {
			ids = append(ids, id)
		}
		ts = append(ts, g.UnixNanos...)
		vs = append(vs, g.Values...)
	}
	r.ids.Contents.BytesContents, r.ts.Contents.Int64Contents, r.value.Contents.Fp64Contents = ids, ts, vs
	for _, t := range r.msg.Inputs {
		t.Shape[0] = int64(n)
	}
}

// reset drops the references to series ids so a pooled request pins no
// caller memory.
func (r *request) reset() {
	clear(r.ids.Contents.BytesContents)
	r.ids.Contents.BytesContents = r.ids.Contents.BytesContents[:0]
}

// maxLoggedID is how much of an instance_id a log line shows.
const maxLoggedID = 64

// logID cuts an instance_id to maxLoggedID bytes for the log, marked
// "...": the model server chooses it, and one that sends a new id of
// megabytes with every answer would otherwise write two such ids a call.
func logID(id string) string {
	if len(id) <= maxLoggedID {
		return id
	}
	return strings.ToValidUTF8(id[:maxLoggedID], "") + "..."
}
