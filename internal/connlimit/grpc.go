package connlimit

import (
	"google.golang.org/grpc"
)

// HTTP/2 transport bounds both binaries give their gRPC servers
// (GRPCTransport), stated once here.
const (
	// DefaultMaxConcurrentStreams bounds the streams (calls) one
	// connection may have open at once; further ones wait in the client
	// for a slot. Each open stream may hold StreamWindowBytes of received
	// frames and a message being decoded, so this bounds what one
	// connection holds. The service's --max-concurrent-streams default,
	// and astraguard-model's.
	DefaultMaxConcurrentStreams = 1024
	// StreamWindowBytes is every stream's HTTP/2 receive window: what the
	// transport buffers for a stream before its handler reads it. gRPC's
	// default grows it from bandwidth-delay pings up to 16 MiB a stream;
	// fixed, a stream waiting for its handler holds at most this much.
	StreamWindowBytes = 64 << 10
	// ConnWindowBytes is every connection's receive window. It is
	// replenished as data arrives, whatever the handlers read, so it
	// bounds no memory; it is as large as gRPC's own would grow, so many
	// streams of one connection are not slowed by it.
	ConnWindowBytes = 16 << 20
)

// GRPCTransport returns the gRPC server options that bound a connection's
// HTTP/2 transport: at most maxStreams concurrent streams, and the fixed
// receive windows StreamWindowBytes and ConnWindowBytes (setting them
// turns off gRPC's window growth). maxStreams 0 means
// DefaultMaxConcurrentStreams.
func GRPCTransport(maxStreams uint32) []grpc.ServerOption {
	if maxStreams == 0 {
		maxStreams = DefaultMaxConcurrentStreams
	}
	return []grpc.ServerOption{
		grpc.MaxConcurrentStreams(maxStreams),
		grpc.InitialWindowSize(StreamWindowBytes),
		grpc.InitialConnWindowSize(ConnWindowBytes),
	}
}
