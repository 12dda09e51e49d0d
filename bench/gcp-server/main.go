// gcp-server serves the synthetic mesh over ADS with github.com/envoyproxy/go-control-plane, from its snapshot
// cache or its linear cache: the pure fan-out floor (no API server, no translation) the other peers are held to.
//
//	gcp-server --size 1000 --flavor proxyless --cache linear --xds 127.0.0.1:18000 --admin 127.0.0.1:18001
//
// POST http://<admin>/weight?v2=W sets the trigger service's v2 weight to W and returns once the cache has it.
//
//	gcp-server --size 1000 --flavor proxyless --dump mesh.json
//
// writes the same resources (and the trigger route at every weight) as JSON for another server to serve, and
// exits: bench/grpcjs-floor.ts serves them over @grpc/grpc-js, so both floors send the same bytes.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"weft.dev/bench/internal/mesh"
)

// meshCache is what the trigger needs from either cache: set the trigger service's weight.
type meshCache interface {
	cachev3.Cache
	setWeight(v2 int) error
}

func main() {
	size := flag.Int("size", 100, "number of services in the mesh")
	flavor := flag.String("flavor", "proxyless", "resources for proxyless gRPC clients or Envoy sidecars: proxyless | envoy")
	kind := flag.String("cache", "linear", "go-control-plane cache: snapshot | linear")
	xdsAddr := flag.String("xds", "127.0.0.1:18000", "ADS listen address")
	adminAddr := flag.String("admin", "127.0.0.1:18001", "trigger endpoint listen address")
	dump := flag.String("dump", "", "write the resources as JSON to this file and exit")
	flag.Parse()

	services := mesh.Generate(*size)
	if *dump != "" {
		if err := dumpMesh(*dump, services, mesh.Flavor(*flavor)); err != nil {
			log.Fatal(err)
		}
		return
	}
	var c meshCache
	switch *kind {
	case "snapshot":
		c = newSnapshotCache(services, mesh.Flavor(*flavor))
	case "linear":
		c = newLinearCache(services, mesh.Flavor(*flavor))
	default:
		log.Fatalf("unknown --cache %q", *kind)
	}

	srv := serverv3.NewServer(context.Background(), c, nil)
	g := grpc.NewServer(
		grpc.MaxConcurrentStreams(1<<20),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{PermitWithoutStream: true}),
	)
	discovery.RegisterAggregatedDiscoveryServiceServer(g, srv)
	lis, err := net.Listen("tcp", *xdsAddr)
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("POST /weight", func(w http.ResponseWriter, r *http.Request) {
		v2, err := strconv.Atoi(r.URL.Query().Get("v2"))
		if err != nil || v2 < 0 || v2 > 100 {
			http.Error(w, "v2 must be 0..100", http.StatusBadRequest)
			return
		}
		if err := c.setWeight(v2); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	go func() { log.Fatal(http.ListenAndServe(*adminAddr, nil)) }()
	log.Printf("gcp-server: %d services, %s resources, %s cache, ADS on %s", *size, *flavor, *kind, lis.Addr())
	log.Fatal(g.Serve(lis))
}

// weights tracks the trigger service's v2 weight; every other service keeps the initial split.
type weights struct {
	mu       sync.Mutex
	trigger  mesh.Service
	v2       int
	services []mesh.Service
}

func (w *weights) of(s mesh.Service) int {
	if s.Name == w.trigger.Name && s.Namespace == w.trigger.Namespace {
		return w.v2
	}
	return mesh.InitialV2Weight
}

// changedRoute is the one route configuration a weight change touches, for a flavor.
func (w *weights) changedRoute(flavor mesh.Flavor) proto.Message {
	if flavor == mesh.Envoy {
		return mesh.EnvoyRoute(w.services, w.of)
	}
	return mesh.ProxylessRoute(w.trigger, w.v2)
}

// Snapshot cache: one snapshot shared by every node; a change replaces only the routes' version, so clients
// are sent only RDS. Its ADS mode is off: in ADS mode the cache answers a named request only when the names
// cover every resource of the type in the node's snapshot (one snapshot per node, holding just what that node
// asks for), which a shared snapshot for clients that each ask for 10 services never satisfies.
type snapshotCache struct {
	cachev3.SnapshotCache
	weights
	flavor  mesh.Flavor
	snap    *cachev3.Snapshot
	version int
}

// oneGroup hashes every node to the same snapshot: all clients of a run are of one flavor.
type oneGroup struct{}

func (oneGroup) ID(*core.Node) string { return "mesh" }

func newSnapshotCache(services []mesh.Service, flavor mesh.Flavor) *snapshotCache {
	c := &snapshotCache{
		SnapshotCache: cachev3.NewSnapshotCache(false, oneGroup{}, nil),
		weights:       weights{trigger: mesh.TriggerService(services), v2: mesh.InitialV2Weight, services: services},
		flavor:        flavor,
	}
	r := mesh.Build(services, flavor, c.of)
	c.snap = &cachev3.Snapshot{}
	set := func(t types.ResponseType, ms []proto.Message) {
		c.snap.Resources[t] = cachev3.NewResources("1", asResources(ms))
	}
	set(types.Listener, r.Listeners)
	set(types.Route, r.Routes)
	set(types.Cluster, r.Clusters)
	set(types.Endpoint, r.Endpoints)
	c.version = 1
	if err := c.SetSnapshot(context.Background(), "mesh", c.snap); err != nil {
		log.Fatal(err)
	}
	return c
}

func (c *snapshotCache) setWeight(v2 int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v2 = v2
	c.version++
	next := *c.snap
	routes := make(map[string]types.Resource, len(c.snap.Resources[types.Route].Items))
	for name, item := range c.snap.Resources[types.Route].Items {
		routes[name] = item.Resource
	}
	changed := c.changedRoute(c.flavor)
	routes[cachev3.GetResourceName(changed)] = changed
	list := make([]types.Resource, 0, len(routes))
	for _, r := range routes {
		list = append(list, r)
	}
	next.Resources[types.Route] = cachev3.NewResources(strconv.Itoa(c.version), list)
	next.VersionMap = nil
	c.snap = &next
	return c.SetSnapshot(context.Background(), "mesh", c.snap)
}

// Linear cache: one per type, muxed by type URL; a change updates the one route resource.
type linearCache struct {
	*cachev3.MuxCache
	weights
	flavor mesh.Flavor
	routes *cachev3.LinearCache
}

func newLinearCache(services []mesh.Service, flavor mesh.Flavor) *linearCache {
	c := &linearCache{
		weights: weights{trigger: mesh.TriggerService(services), v2: mesh.InitialV2Weight, services: services},
		flavor:  flavor,
	}
	r := mesh.Build(services, flavor, c.of)
	linear := func(typeURL string, ms []proto.Message) *cachev3.LinearCache {
		byName := make(map[string]types.Resource, len(ms))
		for _, m := range ms {
			byName[cachev3.GetResourceName(m)] = m
		}
		return cachev3.NewLinearCache(typeURL, cachev3.WithInitialResources(byName))
	}
	c.routes = linear(resourcev3.RouteType, r.Routes)
	c.MuxCache = &cachev3.MuxCache{
		Classify:      func(r *cachev3.Request) string { return r.GetTypeUrl() },
		ClassifyDelta: func(r *cachev3.DeltaRequest) string { return r.GetTypeUrl() },
		Caches: map[string]cachev3.Cache{
			resourcev3.ListenerType: linear(resourcev3.ListenerType, r.Listeners),
			resourcev3.RouteType:    c.routes,
			resourcev3.ClusterType:  linear(resourcev3.ClusterType, r.Clusters),
			resourcev3.EndpointType: linear(resourcev3.EndpointType, r.Endpoints),
		},
	}
	return c
}

func (c *linearCache) setWeight(v2 int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v2 = v2
	changed := c.changedRoute(c.flavor)
	return c.routes.UpdateResource(cachev3.GetResourceName(changed), changed)
}

func asResources(ms []proto.Message) []types.Resource {
	out := make([]types.Resource, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

// meshDump is what --dump writes: every resource as an encoded google.protobuf.Any (base64 in JSON), and the
// trigger service's route configuration at each v2 weight 0..100.
type meshDump struct {
	Resources    []dumpedResource `json:"resources"`
	TriggerRoute string           `json:"triggerRoute"`
	ByWeight     [][]byte         `json:"byWeight"`
}

type dumpedResource struct {
	TypeURL string `json:"typeUrl"`
	Name    string `json:"name"`
	Any     []byte `json:"any"`
}

func dumpMesh(path string, services []mesh.Service, flavor mesh.Flavor) error {
	if flavor != mesh.Proxyless {
		return fmt.Errorf("--dump serves proxyless resources only")
	}
	w := weights{trigger: mesh.TriggerService(services), v2: mesh.InitialV2Weight, services: services}
	r := mesh.Build(services, flavor, w.of)
	encode := func(m proto.Message) ([]byte, error) {
		a, err := anypb.New(m)
		if err != nil {
			return nil, err
		}
		return proto.Marshal(a)
	}
	var d meshDump
	for _, group := range []struct {
		typeURL string
		ms      []proto.Message
	}{{resourcev3.ListenerType, r.Listeners}, {resourcev3.RouteType, r.Routes}, {resourcev3.ClusterType, r.Clusters}, {resourcev3.EndpointType, r.Endpoints}} {
		for _, m := range group.ms {
			b, err := encode(m)
			if err != nil {
				return err
			}
			d.Resources = append(d.Resources, dumpedResource{TypeURL: group.typeURL, Name: cachev3.GetResourceName(m), Any: b})
		}
	}
	for v2 := 0; v2 <= 100; v2++ {
		route := mesh.ProxylessRoute(w.trigger, v2)
		b, err := encode(route)
		if err != nil {
			return err
		}
		d.TriggerRoute = cachev3.GetResourceName(route)
		d.ByWeight = append(d.ByWeight, b)
	}
	out, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
