package server

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/astraguard/astraguard/breaker"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
	"github.com/astraguard/astraguard/internal/testkit"
)

// TestPerCallLogsAtDebug makes ok and refused calls through a server
// logging at INFO, then at DEBUG: "finished call" lines appear only at
// DEBUG, while the admin audit line stays at INFO.
func TestPerCallLogsAtDebug(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		t.Run(level.String(), func(t *testing.T) {
			var logs testkit.SyncBuffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level}))
			breakers, err := breaker.NewRegistry(strict)
			if err != nil {
				t.Fatal(err)
			}
			breakers.Breaker("model")
			srv, err := New(halfScorer{}, NewAdminService(breakers, NewHub(), logger), Config{MaxSamplesPerRequest: 2}, WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			lis := bufconn.Listen(1 << 20)
			go func() { _ = srv.Serve(lis) }()
			defer srv.grpc.Stop()
			conn, err := grpc.NewClient("passthrough:///bufnet",
				grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			c, admin := astraguardv1.NewDetectorServiceClient(conn), astraguardv1.NewBreakerAdminClient(conn)
			ctx := t.Context()
			_, okErr := c.DetectBatch(ctx, &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{series("s", 1)}})
			_, limitErr := c.DetectBatch(ctx, &astraguardv1.DetectBatchRequest{Series: []*astraguardv1.SeriesSamples{series("s", 3)}})
			_, notFound := admin.GetBreaker(ctx, &astraguardv1.GetBreakerRequest{Name: "nope"})
			_, resetErr := admin.ResetBreaker(ctx, &astraguardv1.ResetBreakerRequest{Name: "model", Reason: "test"})
			if okErr != nil || limitErr == nil || notFound == nil || resetErr != nil {
				t.Fatalf("calls = %v, %v, %v, %v; want ok, refused, not found, ok", okErr, limitErr, notFound, resetErr)
			}
			conn.Close()
			srv.grpc.GracefulStop() // the calls' logs are written
			out := logs.String()
			calls := strings.Count(out, `"msg":"finished call"`)
			if level == slog.LevelInfo && calls != 0 {
				t.Errorf("INFO log has %d per-call lines, want none:\n%s", calls, out)
			}
			if level == slog.LevelDebug && calls != 4 {
				t.Errorf("DEBUG log has %d per-call lines, want 4:\n%s", calls, out)
			}
			if !strings.Contains(out, `"level":"INFO","msg":"breaker admin"`) {
				t.Errorf("log lacks the admin audit line at INFO:\n%s", out)
			}
		})
	}
}
