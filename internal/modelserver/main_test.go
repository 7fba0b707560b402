package modelserver_test

import (
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/modelserver"
	"github.com/astraguard/astraguard/internal/testkit"
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
	gs := grpc.NewServer()
	inference.RegisterGRPCInferenceServiceServer(gs, srv)
	reflection.Register(gs)
	return testkit.ServeBufconn(t, gs)
}
