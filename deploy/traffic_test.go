package deploy_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/test/harness"
)

// exercise sends scored traffic, then forces the model breaker open and
// sends more, so the exposition holds model and heuristic verdicts, a
// fallback reason and an override.
func exercise(t *testing.T, svc *harness.Service, round int) {
	t.Helper()
	conn, err := grpc.NewClient(svc.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	det := astraguardv1.NewDetectorServiceClient(conn)
	admin := astraguardv1.NewBreakerAdminClient(conn)
	send := func() {
		req := &astraguardv1.DetectBatchRequest{}
		for s := range 3 {
			ss := &astraguardv1.SeriesSamples{SeriesId: fmt.Sprintf("sat1/ch%d", s)}
			for i := range 50 {
				ss.UnixNanos = append(ss.UnixNanos, time.Unix(1_700_000_000, 0).Add(time.Duration(round*100+i)*time.Second).UnixNano())
				ss.Values = append(ss.Values, float64(i%7))
			}
			req.Series = append(req.Series, ss)
		}
		if _, err := det.DetectBatch(t.Context(), req); err != nil {
			t.Fatalf("DetectBatch: %v", err)
		}
	}
	send()
	if _, err := admin.ForceBreaker(t.Context(), &astraguardv1.ForceBreakerRequest{
		Name: "model", Override: astraguardv1.Override_OVERRIDE_FORCED_OPEN, Reason: "deploy test", Ttl: durationpb.New(time.Hour),
	}); err != nil {
		t.Fatalf("ForceBreaker: %v", err)
	}
	send()
}
