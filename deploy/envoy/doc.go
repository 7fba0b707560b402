// Package envoy holds only a test: it decodes envoy.yaml strictly into
// Envoy's v3 Bootstrap proto (github.com/envoyproxy/go-control-plane), so
// an unknown or misspelt field, a wrong type or an unknown typed_config
// fails, and checks that the route hashes the header client.HashHeader
// names on a RING_HASH cluster speaking HTTP/2. Envoy itself is not
// installable here; where it is, `envoy --mode validate -c envoy.yaml`
// checks more. It is a separate module so that Envoy's API protos stay out
// of the service's go.mod.
package envoy
