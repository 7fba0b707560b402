package server

import (
	"net"
)

// LimitListener bounds lis at Config.MaxConnections open connections and
// counts them in astraguard_open_connections{listener=name}, as the Server
// does for its own gRPC listeners; cmd uses it for the HTTP port.
func (s *Server) LimitListener(lis net.Listener, name string) net.Listener {
	return s.conns.Wrap(lis, name)
}
