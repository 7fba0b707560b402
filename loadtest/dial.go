package loadtest

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// roundRobin spreads RPCs, and so Detect streams, over every ready address
// and skips one whose connection failed.
const roundRobin = `{"loadBalancingConfig":[{"round_robin":{}}]}`

// NewClient returns a plaintext connection that balances RPCs over addrs
// (host:port each) with gRPC's round_robin policy. The address list is
// static: it is handed to the channel once, through a resolver private to
// this connection, so no global resolver is registered. Every new RPC goes
// to the next ready address; a stream stays on the address it started on,
// so a client that wants a stream moved must open a new one (Resilient
// does). opts come after the defaults and may override them.
func NewClient(addrs []string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	if len(addrs) == 0 {
		return nil, errors.New("new client: no address")
	}
	state := resolver.State{}
	for _, a := range addrs {
		if a == "" || strings.Contains(a, ",") {
			return nil, fmt.Errorf("new client: bad address %q", a)
		}
		state.Endpoints = append(state.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: a}}})
	}
	r := manual.NewBuilderWithScheme("static")
	r.InitialState(state)
	return grpc.NewClient(r.Scheme()+":///"+strings.Join(addrs, ","), append([]grpc.DialOption{
		grpc.WithResolvers(r),
		grpc.WithDefaultServiceConfig(roundRobin),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)...)
}
