package server

import (
	"net"
)

// LimitListener bounds lis at Config.MaxConnections open connections,
// Config.MaxConnectionsPerClient of them per client, and counts them in
// astraguard_open_connections{listener=name}, as the Server does for its
// own gRPC listeners; cmd uses it for the HTTP port (with
// connlimit.DrainIdle).
func (s *Server) LimitListener(lis net.Listener, name string) net.Listener {
	return s.conns.Wrap(lis, name)
}
