package mesh

import (
	"fmt"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	fault "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	router "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Flavor is the kind of client the resources are for, as in Weft's generators.
type Flavor string

const (
	// Proxyless gRPC: an api_listener per `host:port`, a route configuration of the same name, EDS clusters.
	Proxyless Flavor = "proxyless"
	// Envoy sidecar: the capture listener virtualOutbound, one outbound listener per port, one route
	// configuration per port with a virtual host per service, the same clusters and endpoints, and the
	// passthrough and black-hole clusters (as Weft's src/xds/generators/envoy.ts does).
	Envoy Flavor = "envoy"
)

// Resources is the mesh as Envoy resources, by type.
type Resources struct {
	Listeners []proto.Message
	Routes    []proto.Message
	Clusters  []proto.Message
	Endpoints []proto.Message
}

// Build returns every resource of the mesh for a flavor; v2Weight gives each service's current v2 weight.
func Build(services []Service, flavor Flavor, v2Weight func(Service) int) Resources {
	var r Resources
	for _, s := range services {
		for _, subset := range []string{"", "v1", "v2"} {
			r.Clusters = append(r.Clusters, edsCluster(s.Cluster(subset)))
			r.Endpoints = append(r.Endpoints, loadAssignment(s, subset))
		}
	}
	switch flavor {
	case Proxyless:
		for _, s := range services {
			r.Listeners = append(r.Listeners, apiListener(s.Listener()))
			r.Routes = append(r.Routes, ProxylessRoute(s, v2Weight(s)))
		}
	case Envoy:
		r.Listeners = append(r.Listeners, virtualOutbound(), outboundListener())
		r.Routes = append(r.Routes, EnvoyRoute(services, v2Weight))
		r.Clusters = append(r.Clusters,
			&cluster.Cluster{Name: "PassthroughCluster", ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_ORIGINAL_DST},
				LbPolicy: cluster.Cluster_CLUSTER_PROVIDED, ConnectTimeout: durationpb.New(10e9)},
			&cluster.Cluster{Name: "BlackHoleCluster", ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_STATIC},
				ConnectTimeout: durationpb.New(10e9)})
	default:
		panic(fmt.Sprintf("unknown flavor %q", flavor))
	}
	return r
}

// ProxylessRoute is the route configuration `host:port` a proxyless client receives for one service: one
// virtual host for any authority, as the configuration belongs to that one target.
func ProxylessRoute(s Service, v2Weight int) *route.RouteConfiguration {
	vh := virtualHost(s, v2Weight)
	vh.Domains = []string{"*"}
	return &route.RouteConfiguration{Name: s.Listener(), VirtualHosts: []*route.VirtualHost{vh}}
}

// EnvoyRouteName is the outbound route configuration of the port (Istio's and Weft's spelling: the port number).
var EnvoyRouteName = fmt.Sprint(Port)

// EnvoyRoute is the port's route configuration a sidecar receives: one virtual host per service.
func EnvoyRoute(services []Service, v2Weight func(Service) int) *route.RouteConfiguration {
	rc := &route.RouteConfiguration{Name: EnvoyRouteName, ValidateClusters: wrapperspb.Bool(false)}
	for _, s := range services {
		rc.VirtualHosts = append(rc.VirtualHosts, virtualHost(s, v2Weight(s)))
	}
	return rc
}

func virtualHost(s Service, v2Weight int) *route.VirtualHost {
	weighted := func(subset string, w int) *route.WeightedCluster_ClusterWeight {
		return &route.WeightedCluster_ClusterWeight{Name: s.Cluster(subset), Weight: wrapperspb.UInt32(uint32(w))}
	}
	return &route.VirtualHost{
		Name:    s.Listener(),
		Domains: domains(s),
		Routes: []*route.Route{{
			Name:  "split",
			Match: &route.RouteMatch{PathSpecifier: &route.RouteMatch_Prefix{Prefix: "/"}},
			Action: &route.Route_Route{Route: &route.RouteAction{
				ClusterSpecifier: &route.RouteAction_WeightedClusters{WeightedClusters: &route.WeightedCluster{
					Clusters: []*route.WeightedCluster_ClusterWeight{weighted("v1", 100-v2Weight), weighted("v2", v2Weight)},
				}},
			}},
		}},
	}
}

// domains: the FQDN, `name.ns` and `name.ns.svc`, each bare and with the port.
func domains(s Service) []string {
	var out []string
	for _, n := range []string{s.Host(), s.Name + "." + s.Namespace, s.Name + "." + s.Namespace + ".svc"} {
		out = append(out, n, fmt.Sprintf("%s:%d", n, Port))
	}
	return out
}

var adsSource = &core.ConfigSource{
	ConfigSourceSpecifier: &core.ConfigSource_Ads{Ads: &core.AggregatedConfigSource{}},
	ResourceApiVersion:    core.ApiVersion_V3,
}

func connectionManager(statPrefix, routeName string) *anypb.Any {
	return mustAny(&hcm.HttpConnectionManager{
		StatPrefix: statPrefix,
		RouteSpecifier: &hcm.HttpConnectionManager_Rds{Rds: &hcm.Rds{
			ConfigSource: adsSource, RouteConfigName: routeName,
		}},
		// Weft's chain (src/xds/generators/http-filters.ts, as Istio's grpcgen): fault injection, configured per
		// route, then the router.
		HttpFilters: []*hcm.HttpFilter{{
			Name:       "envoy.filters.http.fault",
			ConfigType: &hcm.HttpFilter_TypedConfig{TypedConfig: mustAny(&fault.HTTPFault{})},
		}, {
			Name:       "envoy.filters.http.router",
			ConfigType: &hcm.HttpFilter_TypedConfig{TypedConfig: mustAny(&router.Router{})},
		}},
	})
}

func apiListener(name string) *listener.Listener {
	return &listener.Listener{Name: name, ApiListener: &listener.ApiListener{ApiListener: connectionManager(name, name)}}
}

func outboundListener() *listener.Listener {
	name := fmt.Sprintf("0.0.0.0_%d", Port)
	return &listener.Listener{
		Name:             name,
		Address:          socketAddress("0.0.0.0", Port),
		TrafficDirection: core.TrafficDirection_OUTBOUND,
		BindToPort:       wrapperspb.Bool(false),
		FilterChains: []*listener.FilterChain{{Filters: []*listener.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &listener.Filter_TypedConfig{TypedConfig: connectionManager("outbound_"+name, EnvoyRouteName)},
		}}}},
	}
}

func virtualOutbound() *listener.Listener {
	return &listener.Listener{
		Name:             "virtualOutbound",
		Address:          socketAddress("0.0.0.0", 15001),
		UseOriginalDst:   wrapperspb.Bool(true),
		TrafficDirection: core.TrafficDirection_OUTBOUND,
		FilterChains: []*listener.FilterChain{{Name: "PassthroughFilterChain", Filters: []*listener.Filter{{
			Name: "envoy.filters.network.tcp_proxy",
			ConfigType: &listener.Filter_TypedConfig{TypedConfig: mustAny(&tcp.TcpProxy{
				StatPrefix: "PassthroughCluster", ClusterSpecifier: &tcp.TcpProxy_Cluster{Cluster: "PassthroughCluster"},
			})},
		}}}},
	}
}

func edsCluster(name string) *cluster.Cluster {
	return &cluster.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_EDS},
		EdsClusterConfig:     &cluster.Cluster_EdsClusterConfig{EdsConfig: adsSource, ServiceName: name},
		ConnectTimeout:       durationpb.New(10e9),
		LbPolicy:             cluster.Cluster_ROUND_ROBIN,
	}
}

// loadAssignment holds the service's endpoints in the subset (all of them for the empty subset).
func loadAssignment(s Service, subset string) *endpoint.ClusterLoadAssignment {
	var lb []*endpoint.LbEndpoint
	for _, e := range s.Endpoints {
		if subset != "" && e.Version != subset {
			continue
		}
		lb = append(lb, &endpoint.LbEndpoint{
			HostIdentifier:      &endpoint.LbEndpoint_Endpoint{Endpoint: &endpoint.Endpoint{Address: socketAddress(e.Address, Port)}},
			HealthStatus:        core.HealthStatus_HEALTHY,
			LoadBalancingWeight: wrapperspb.UInt32(1),
		})
	}
	return &endpoint.ClusterLoadAssignment{
		ClusterName: s.Cluster(subset),
		Endpoints: []*endpoint.LocalityLbEndpoints{{
			Locality:            &core.Locality{Region: "local", Zone: "a"},
			LbEndpoints:         lb,
			LoadBalancingWeight: wrapperspb.UInt32(1),
		}},
	}
}

func socketAddress(ip string, port uint32) *core.Address {
	return &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
		Address: ip, PortSpecifier: &core.SocketAddress_PortValue{PortValue: port},
	}}}
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}
