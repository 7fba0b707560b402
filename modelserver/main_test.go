package modelserver_test

import (
	"context"
	"net"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/test/bufconn"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/model"
	"github.com/astraguard/astraguard/modelserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newServer(t testing.TB, opts ...modelserver.Option) *modelserver.Server {
	t.Helper()
	tmpl, err := model.NewTemplate(model.Config{WarmUp: 20})
	if err != nil {
		t.Fatalf("NewTemplate() = %v", err)
	}
	s, err := modelserver.New(tmpl, modelserver.Config{MaxBatch: 1000, MaxSeries: 100}, opts...)
	if err != nil {
		t.Fatalf("modelserver.New() = %v", err)
	}
	return s
}

// serve runs srv with reflection over bufconn and returns a conn to it;
// both are stopped at cleanup.
func serve(t *testing.T, srv *modelserver.Server) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	inference.RegisterGRPCInferenceServiceServer(gs, srv)
	reflection.Register(gs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := gs.Serve(lis); err != nil {
			t.Errorf("Serve() = %v", err)
		}
	}()
	t.Cleanup(func() { gs.Stop(); <-done })
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
