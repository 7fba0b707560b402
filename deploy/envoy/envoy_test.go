package envoy

import (
	"os"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"
)

// hashHeader is client.HashHeader; this module does not import the service
// module, so the test pins the value the docs promise.
const hashHeader = "astraguard-partition-key"

// The typed_config types the file uses must be linked in for protojson to
// resolve their "@type".
var (
	_ = &routerv3.Router{}
	_ = &httpv3.HttpProtocolOptions{}
)

func load(t *testing.T) *bootstrapv3.Bootstrap {
	t.Helper()
	y, err := os.ReadFile("envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("envoy.yaml: %v", err)
	}
	var b bootstrapv3.Bootstrap
	if err := (protojson.UnmarshalOptions{}).Unmarshal(j, &b); err != nil {
		t.Fatalf("envoy.yaml is not a valid Envoy v3 bootstrap: %v", err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("envoy.yaml fails Envoy's proto constraints: %v", err)
	}
	return &b
}

func TestConfigDecodesStrictly(t *testing.T) { load(t) }

func TestRouteHashesThePartitionKey(t *testing.T) {
	b := load(t)
	ls := b.GetStaticResources().GetListeners()
	if len(ls) != 1 {
		t.Fatalf("%d listeners, want 1", len(ls))
	}
	var hcm hcmv3.HttpConnectionManager
	if err := ls[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatalf("first filter is not the HTTP connection manager: %v", err)
	}
	var route string
	for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			hp := r.GetRoute().GetHashPolicy()
			if len(hp) != 1 || hp[0].GetHeader().GetHeaderName() != hashHeader {
				t.Errorf("route %v hashes %v, want the header %s only", r.GetMatch(), hp, hashHeader)
			}
			if r.GetRoute().GetTimeout().AsDuration() != 0 {
				t.Errorf("route timeout %v, want 0 (none) for long-lived Detect streams", r.GetRoute().GetTimeout().AsDuration())
			}
			route = r.GetRoute().GetCluster()
		}
	}
	var c *clusterv3.Cluster
	for _, cl := range b.GetStaticResources().GetClusters() {
		if cl.GetName() == route {
			c = cl
		}
	}
	if c == nil {
		t.Fatalf("route goes to cluster %q, which is not defined", route)
	}
	if c.GetLbPolicy() != clusterv3.Cluster_RING_HASH {
		t.Errorf("cluster %s lb_policy %v, want RING_HASH", c.GetName(), c.GetLbPolicy())
	}
	var po httpv3.HttpProtocolOptions
	if err := c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].UnmarshalTo(&po); err != nil ||
		po.GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
		t.Errorf("cluster %s does not speak HTTP/2 upstream (%v): gRPC needs it", c.GetName(), err)
	}
}
