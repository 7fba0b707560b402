package main

import (
	"io"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/internal/connlimit/connlimittest"
	"github.com/astraguard/astraguard/internal/testkit"
)

// TestTransportIsBounded: the model server's gRPC transport is the
// service's (connlimit.GRPCTransport): it advertises at most
// --max-concurrent-streams streams per connection and a fixed 64 KiB
// stream window, and never grows it from bandwidth-delay pings. Before,
// it set no stream limit (gRPC's: unbounded) and let each stream's window
// grow towards 16 MiB, what the transport buffers for a call not yet read.
func TestTransportIsBounded(t *testing.T) {
	for _, tt := range []struct {
		flags []string
		want  uint32
	}{
		{nil, connlimit.DefaultMaxConcurrentStreams},
		{[]string{"--max-concurrent-streams=7"}, 7},
	} {
		args := append([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error"}, tt.flags...)
		cfg, err := parseConfig(args, func(string) (string, bool) { return "", false }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		_, lis, _, stop := startServe(t, cfg)
		got := connlimittest.Probe(t, lis.Addr().String(), "/inference.GRPCInferenceService/ModelInfer")
		if v, ok := got.Settings[http2.SettingMaxConcurrentStreams]; !ok || v != tt.want {
			t.Errorf("%v: advertised max concurrent streams %d (set: %v), want %d", tt.flags, v, ok, tt.want)
		}
		if v := got.Settings[http2.SettingInitialWindowSize]; v != connlimit.StreamWindowBytes {
			t.Errorf("%v: advertised stream window %d, want %d", tt.flags, v, connlimit.StreamWindowBytes)
		}
		if got.Pinged {
			t.Errorf("%v: the server pinged after a stream's data: it sizes the window from the bandwidth-delay product", tt.flags)
		}
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

// TestMaxConcurrentStreamsValidated: 0 and values past 32 bits are
// refused at parse time.
func TestMaxConcurrentStreamsValidated(t *testing.T) {
	for _, v := range []string{"0", "4294967296"} {
		if _, err := parseConfig([]string{"--max-concurrent-streams=" + v}, func(string) (string, bool) { return "", false }, io.Discard); err == nil {
			t.Errorf("--max-concurrent-streams=%s accepted", v)
		}
	}
}

// TestDecodeBombRefused: a 15 MiB request of empty input tensors (two
// bytes each) is refused before it is decoded: decoded it took 1.2 GB, so
// a few at once ran the model server out of memory. The server goes on
// serving.
func TestDecodeBombRefused(t *testing.T) {
	cfg, err := parseConfig([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error"},
		func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, lis, _, _ := startServe(t, cfg)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(testkit.RawCodec{}), grpc.MaxCallSendMsgSize(maxMessageBytes)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bomb := testkit.EmptyRepeated(0x2a, 15<<20) // ModelInferRequest.inputs: empty tensors
	var resp []byte
	err = conn.Invoke(t.Context(), "/inference.GRPCInferenceService/ModelInfer", bomb, &resp)
	if !strings.Contains(status.Convert(err).Message(), "decodes to more than") {
		t.Errorf("ModelInfer(15 MiB of empty tensors) = %v, want refused before decoding", err)
	}
	if err := checkServing(t, lis.Addr().String()); err != nil {
		t.Errorf("after the refusal: %v", err)
	}
}
