package main

import (
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/protolimit"
	"github.com/astraguard/astraguard/internal/protolimit/protolimittest"
)

// TestDecodingBudgetDefault: as configured, requests being decoded at
// once hold at most decodingBytes, 128 MiB: two at the decoded bound.
func TestDecodingBudgetDefault(t *testing.T) {
	cfg, err := parseConfig(nil, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.decode.Size(); got != 128<<20 {
		t.Errorf("decoding budget %d bytes, want 128 MiB (two requests at the decoded bound)", got)
	}
}

// TestDecodesBoundedAtOnce: concurrent ModelInfer requests are decoded at
// most the decoding budget at once; the others wait in the codec, then are
// answered by the handler (here NotFound: no such model), never failed as
// INTERNAL. Before, every call was decoded at once however many there
// were, each up to 64 MiB decoded.
func TestDecodesBoundedAtOnce(t *testing.T) {
	const calls, fit = 6, 2
	req := &inference.ModelInferRequest{ModelName: "no-such-model", Id: strings.Repeat("i", 200),
		Inputs: make([]*inference.ModelInferRequest_InferInputTensor, 1000)}
	for i := range req.Inputs {
		req.Inputs[i] = &inference.ModelInferRequest_InferInputTensor{}
	}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	est, err := protolimit.Measure(b, req, maxDecodedBytes)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error"},
		func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.decodingBytes = fit*est + est/2 // room for two decodes, not three
	gate := protolimittest.NewGate(t, calls)
	_, lis, _, _ := startServe(t, cfg,
		protolimit.WithHeld(func(held int64) {
			if held >= est { // not another service's message (health, reflection)
				gate.Held(held)
			}
		}),
		protolimit.WithWait(gate.Wait))
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := inference.NewGRPCInferenceServiceClient(conn)
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := c.ModelInfer(t.Context(), req)
			errs <- err
		}()
	}
	gate.Await(t, calls, fit, cfg.decodingBytes, errs)
	gate.Open()
	for range calls {
		if err := <-errs; status.Code(err) != codes.NotFound {
			t.Errorf("ModelInfer = %v, want answered by the handler (NotFound)", err)
		}
	}
	if m := gate.Max(); m > cfg.decodingBytes {
		t.Errorf("at most %d bytes decoding at once, want at most %d", m, cfg.decodingBytes)
	}
}
