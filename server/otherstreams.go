package server

import (
	"slices"

	"google.golang.org/grpc"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// Bounds of the streams of every method other than Detect and
// WatchBreakers, which have their own (README "Limits"): the health
// service's Watch and reflection's ServerReflectionInfo, open to every
// client that can connect, and any streaming method added later. Each
// holds a goroutine and the transport's state for as long as the client
// keeps it open, about 14 KB; without these bounds one client could hold
// --max-concurrent-streams of them on each of its
// --max-connections-per-client connections (1024 x 2500 by default,
// tens of GB).
const (
	// MaxOtherStreams bounds them over all clients: about 56 MB.
	MaxOtherStreams = 4096
	// MaxOtherStreamsPerClient bounds those of one client (ClientKeyFunc,
	// the peer IP by default); client-side health checking opens one per
	// connection.
	MaxOtherStreamsPerClient = 64
)

// LimitOtherStreams is the limit a stream of another method (see
// MaxOtherStreams) breaks.
const LimitOtherStreams = "open streams of other methods"

// ownStreamBudget lists the streaming methods bounded elsewhere.
var ownStreamBudget = []string{
	astraguardv1.DetectorService_Detect_FullMethodName,
	astraguardv1.BreakerAdmin_WatchBreakers_FullMethodName,
}

// otherStreams bounds the streams of the methods outside ownStreamBudget
// by slots, per client as key names them; a refusal is RESOURCE_EXHAUSTED
// naming LimitOtherStreams, counted in m.
func otherStreams(slots *watchSlots, key ClientKeyFunc, m *limitMetrics) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if slices.Contains(ownStreamBudget, info.FullMethod) {
			return handler(srv, ss)
		}
		client := key(ss.Context())
		if err := slots.acquire(client); err != nil {
			m.count(err)
			return toStatus(err)
		}
		defer slots.release(client)
		return handler(srv, ss)
	}
}

func newOtherSlots() *watchSlots {
	return &watchSlots{max: MaxOtherStreams, per: MaxOtherStreamsPerClient, perClient: make(map[string]int), limit: LimitOtherStreams}
}
