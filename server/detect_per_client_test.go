package server

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// TestDetectStreamsPerClient: one client holds its share of Detect
// streams, a quarter of MaxDetectStreams by default; its next is
// RESOURCE_EXHAUSTED naming the limit, while another client still opens
// one. Before, one client could take every MaxDetectStreams slot and
// every other client's Detect was refused.
func TestDetectStreamsPerClient(t *testing.T) {
	e := newTCPEnv(t, Config{MaxDetectStreams: 8}, tcpOptions{opts: []Option{WithClientKey(clientFromHeader)}})
	det, _ := e.client(t)
	open := func(client string) error {
		ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(t.Context(), "client", client))
		t.Cleanup(cancel)
		s, err := det.Detect(ctx)
		if err != nil {
			return err
		}
		// Send reports io.EOF when the server has ended the stream
		// (refused it) before the request left; Recv has the status.
		if err := s.Send(&astraguardv1.DetectRequest{Series: []*astraguardv1.SeriesSamples{series("s", 1)}}); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		_, err = s.Recv() // a verdict, or the refusal
		return err
	}
	for i := range 2 { // 8 / 4
		if err := open("a"); err != nil {
			t.Fatalf("Detect stream %d as a = %v", i, err)
		}
	}
	err := open("a")
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), LimitDetectStreams+": 2 per client") {
		t.Fatalf("third Detect stream as a = %v, want RESOURCE_EXHAUSTED naming %q, 2 per client", err, LimitDetectStreams)
	}
	if err := open("b"); err != nil {
		t.Errorf("Detect stream as b = %v, want one: the bound is per client", err)
	}
	for _, tt := range []struct{ total, per, want int }{{10_000, 0, 2500}, {3, 0, 1}, {8, 5, 5}} {
		if got := (Config{MaxDetectStreams: tt.total, MaxDetectStreamsPerClient: tt.per}).perClientDetectStreams(); got != tt.want {
			t.Errorf("MaxDetectStreams %d, per client %d: %d per client, want %d", tt.total, tt.per, got, tt.want)
		}
	}
}
