package server

import (
	"google.golang.org/grpc"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/connlimit"
)

// LimitOtherStreams is the limit a stream of a method other than Detect
// and WatchBreakers (health Watch, reflection, any streaming method added
// later) breaks: connlimit.MaxOtherStreams in total and
// connlimit.MaxOtherStreamsPerClient per client (README "Limits").
const LimitOtherStreams = connlimit.LimitOtherStreams

// ownStreamBudget lists the streaming methods bounded by limits of their
// own (MaxDetectStreams, MaxWatchStreams).
var ownStreamBudget = []string{
	astraguardv1.DetectorService_Detect_FullMethodName,
	astraguardv1.BreakerAdmin_WatchBreakers_FullMethodName,
}

// otherStreams bounds the streams of every method outside ownStreamBudget,
// per client as key names them, on every server given it (the main and
// the admin server share it); refusals count in m.
func otherStreams(key ClientKeyFunc, m *limitMetrics) grpc.StreamServerInterceptor {
	return connlimit.StreamInterceptor(connlimit.StreamBound{
		Exempt:   ownStreamBudget,
		Key:      key,
		OnRefuse: m.rejections[LimitOtherStreams].Inc,
	})
}
