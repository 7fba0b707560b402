package main

import (
	"io"
	"testing"

	"golang.org/x/net/http2"

	"github.com/astraguard/astraguard/internal/connlimit"
	"github.com/astraguard/astraguard/internal/connlimit/connlimittest"
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
