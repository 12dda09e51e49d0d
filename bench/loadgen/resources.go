package main

import (
	"fmt"
	"strings"
	"sync"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// The four resource types a client follows, in dependency order: each type's resources name the next's.
const (
	listenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"
	routeType    = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	clusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	endpointType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	hcmType      = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
)

var chain = [...]string{listenerType, routeType, clusterType, endpointType}

// decoded is what a client keeps of a resource: its name, the names it refers to (routes of a listener,
// clusters of a route configuration, EDS services of a cluster), and for routes the trigger cluster's weight.
type decoded struct {
	name          string
	refs          []string
	triggerWeight int // -1 when the resource does not route to the trigger cluster
}

// decode unmarshals a resource with the Envoy protos; any failure fails the run.
func decode(typeURL string, a *anypb.Any, triggerCluster string) (decoded, error) {
	if a.GetTypeUrl() != typeURL {
		return decoded{}, fmt.Errorf("resource of type %q in a %q response", a.GetTypeUrl(), typeURL)
	}
	d := decoded{triggerWeight: -1}
	switch typeURL {
	case listenerType:
		var l listener.Listener
		if err := unmarshal(a, &l); err != nil {
			return d, err
		}
		d.name = l.GetName()
		managers := []*anypb.Any{l.GetApiListener().GetApiListener()}
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				managers = append(managers, f.GetTypedConfig())
			}
		}
		for _, m := range managers {
			if m.GetTypeUrl() != hcmType {
				continue
			}
			var h hcm.HttpConnectionManager
			if err := unmarshal(m, &h); err != nil {
				return d, fmt.Errorf("listener %s: %w", d.name, err)
			}
			if name := h.GetRds().GetRouteConfigName(); name != "" {
				d.refs = append(d.refs, name)
			}
		}
	case routeType:
		var rc route.RouteConfiguration
		if err := unmarshal(a, &rc); err != nil {
			return d, err
		}
		d.name = rc.GetName()
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				action := r.GetRoute()
				if c := action.GetCluster(); c != "" {
					d.refs = append(d.refs, c)
				}
				for _, wc := range action.GetWeightedClusters().GetClusters() {
					d.refs = append(d.refs, wc.GetName())
					if wc.GetName() == triggerCluster {
						d.triggerWeight = int(wc.GetWeight().GetValue())
					}
				}
			}
		}
	case clusterType:
		var c cluster.Cluster
		if err := unmarshal(a, &c); err != nil {
			return d, err
		}
		d.name = c.GetName()
		if c.GetType() == cluster.Cluster_EDS {
			service := c.GetEdsClusterConfig().GetServiceName()
			if service == "" {
				service = c.GetName()
			}
			d.refs = append(d.refs, service)
		}
	case endpointType:
		var e endpoint.ClusterLoadAssignment
		if err := unmarshal(a, &e); err != nil {
			return d, err
		}
		d.name = e.GetClusterName()
	default:
		return d, fmt.Errorf("unexpected type %q", typeURL)
	}
	d.name, d.refs = intern(d.name), internRefs(d.refs)
	return d, nil
}

// Thousands of clients hold the same names: interning them (and the reference lists, which are the same for
// the same resource) keeps the load generator's memory far below the servers' (2000 Envoy clients hold ~9000
// resources each).
var interned sync.Map

func intern(s string) string {
	v, _ := interned.LoadOrStore(s, s)
	return v.(string)
}

func internRefs(refs []string) []string {
	if len(refs) == 0 {
		return nil
	}
	key := "\x00refs\x00" + strings.Join(refs, "\x00")
	if v, ok := interned.Load(key); ok {
		return v.([]string)
	}
	for i, r := range refs {
		refs[i] = intern(r)
	}
	v, _ := interned.LoadOrStore(key, refs)
	return v.([]string)
}

func unmarshal(a *anypb.Any, m proto.Message) error {
	if err := proto.Unmarshal(a.GetValue(), m); err != nil {
		return fmt.Errorf("decoding %s: %w", a.GetTypeUrl(), err)
	}
	return nil
}
