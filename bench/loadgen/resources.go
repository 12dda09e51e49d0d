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

// The resource types a client follows, in dependency order: a type's resources name resources of a later one.
// Virtual hosts come by VHDS (Envoy on delta xDS) when a route configuration says so; otherwise it holds them.
const (
	listenerType    = "type.googleapis.com/envoy.config.listener.v3.Listener"
	routeType       = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	virtualHostType = "type.googleapis.com/envoy.config.route.v3.VirtualHost"
	clusterType     = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	endpointType    = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	hcmType         = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
)

var chain = [...]string{listenerType, routeType, virtualHostType, clusterType, endpointType}

// decoded is what a client keeps of a resource: its name, the names it refers to and their type (routes of a
// listener, clusters of virtual hosts, the VHDS namespace of a route configuration, EDS services of a cluster),
// and for virtual hosts the trigger cluster's weight.
type decoded struct {
	name          string
	held          held
	triggerWeight int // -1 when the resource does not route to the trigger cluster
}

// held is what a client remembers of a resource it holds: the names it refers to, of type `to`.
type held struct {
	to   string
	refs []string
}

// decode unmarshals a resource with the Envoy protos; any failure fails the run.
func decode(typeURL string, a *anypb.Any, triggerCluster string) (decoded, error) {
	if a.GetTypeUrl() != typeURL {
		return decoded{}, fmt.Errorf("resource of type %q in a %q response", a.GetTypeUrl(), typeURL)
	}
	d := decoded{triggerWeight: -1}
	var refs []string
	switch typeURL {
	case listenerType:
		var l listener.Listener
		if err := unmarshal(a, &l); err != nil {
			return d, err
		}
		d.name, d.held.to = l.GetName(), routeType
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
				refs = append(refs, name)
			}
		}
	case routeType:
		var rc route.RouteConfiguration
		if err := unmarshal(a, &rc); err != nil {
			return d, err
		}
		d.name, d.held.to = rc.GetName(), clusterType
		if rc.GetVhds() != nil { // its virtual hosts come by VHDS: subscribe to its namespace
			d.held.to, refs = virtualHostType, []string{rc.GetName()}
		}
		for _, vh := range rc.GetVirtualHosts() {
			refs = virtualHostRefs(vh, triggerCluster, refs, &d)
		}
	case virtualHostType:
		var vh route.VirtualHost
		if err := unmarshal(a, &vh); err != nil {
			return d, err
		}
		// The resource's name is `<route configuration>/<host>`, not the virtual host's own: the caller sets it.
		d.name, d.held.to = vh.GetName(), clusterType
		refs = virtualHostRefs(&vh, triggerCluster, refs, &d)
	case clusterType:
		var c cluster.Cluster
		if err := unmarshal(a, &c); err != nil {
			return d, err
		}
		d.name, d.held.to = c.GetName(), endpointType
		if c.GetType() == cluster.Cluster_EDS {
			service := c.GetEdsClusterConfig().GetServiceName()
			if service == "" {
				service = c.GetName()
			}
			refs = append(refs, service)
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
	d.name, d.held.refs = intern(d.name), internRefs(refs)
	return d, nil
}

// virtualHostRefs adds the clusters a virtual host routes to, and notes the trigger cluster's weight in d.
func virtualHostRefs(vh *route.VirtualHost, triggerCluster string, refs []string, d *decoded) []string {
	for _, r := range vh.GetRoutes() {
		action := r.GetRoute()
		if c := action.GetCluster(); c != "" {
			refs = append(refs, c)
		}
		for _, wc := range action.GetWeightedClusters().GetClusters() {
			refs = append(refs, wc.GetName())
			if wc.GetName() == triggerCluster {
				d.triggerWeight = int(wc.GetWeight().GetValue())
			}
		}
	}
	return refs
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
