package main

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/stats"
	"google.golang.org/protobuf/types/known/structpb"
)

// clientSpec is what a simulated client is: who it says it is and what it asks for.
type clientSpec struct {
	id             int
	envoy          bool     // wildcard LDS/CDS like an Envoy sidecar; otherwise proxyless (named LDS)
	delta          bool     // incremental xDS instead of state of the world
	listeners      []string // proxyless: the `host:port` listeners it asks for
	triggerCluster string   // the weighted cluster whose weight a trigger changes
	node           *core.Node
	// quickRetry: dial again every probeRetry while the server is not up, not on gRPC's backoff (1 s, 1.6 s, 2.6 s...,
	// jittered): the ready probe's, so that Ready measures the server rather than where the backoff fell.
	quickRetry bool
}

// probeRetry is how soon the ready probe dials again after a failed attempt: Ready's resolution.
const probeRetry = 50 * time.Millisecond

// typeState is one resource type's view on one stream.
type typeState struct {
	wildcard  bool
	names     map[string]bool // subscribed names (unused when wildcard); VHDS: route configuration names
	have      map[string]held // resources held -> the names they refer to
	version   string
	nonce     string
	responded bool
	sent      bool // delta: a first request went out (an empty first request would mean wildcard)
}

// client is one simulated xDS client: one gRPC connection, one ADS stream.
type client struct {
	spec      clientSpec
	observer  observer
	types     map[string]*typeState
	bytes     atomic.Int64 // response payload bytes received
	responses atomic.Int64 // responses received
	// Set once, when the client first holds complete config.
	completeAt       atomic.Int64 // unix nanos
	initialBytes     atomic.Int64
	initialResponses atomic.Int64
	weight           atomic.Int64 // last seen weight of the trigger cluster (-1 before any)
	send             func(any) error
	nodeSent         bool
}

// observer hears about progress: complete config, and each trigger-cluster weight a client sees.
type observer interface {
	complete(c *client)
	sawWeight(c *client, weight int)
	updated(c *client) // after every response
}

func newClient(spec clientSpec, obs observer) *client {
	c := &client{spec: spec, observer: obs, types: map[string]*typeState{}}
	c.weight.Store(-1)
	for _, t := range chain {
		c.types[t] = &typeState{names: map[string]bool{}, have: map[string]held{}}
	}
	if spec.envoy {
		c.types[listenerType].wildcard = true
		c.types[clusterType].wildcard = true
	} else {
		for _, l := range spec.listeners {
			c.types[listenerType].names[l] = true
		}
	}
	return c
}

// decodeSlots bounds how many clients decode a response at once: the CPU is the limit anyway, and 2000 Envoy
// clients decoding megabyte responses at the same time would otherwise hold gigabytes of garbage.
var decodeSlots = make(chan struct{}, 2*runtime.GOMAXPROCS(0))

// countBytes is a gRPC stats handler that adds each received message's payload size to the client.
type countBytes struct{ c *client }

func (h countBytes) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (h countBytes) HandleRPC(_ context.Context, s stats.RPCStats) {
	if p, ok := s.(*stats.InPayload); ok {
		h.c.bytes.Add(int64(p.Length))
		h.c.responses.Add(1)
	}
}
func (h countBytes) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (h countBytes) HandleConn(context.Context, stats.ConnStats)                       {}

// run connects and follows the config until ctx ends or the stream fails. Like a real client it keeps trying
// to connect (WaitForReady): in a storm a server's accept queue may overflow and reset some connections;
// that costs those clients time, not the run. A stream that fails once established fails the run.
func (c *client) run(ctx context.Context, target string) error {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(countBytes{c}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1 << 30)),
	}
	if c.spec.quickRetry {
		opts = append(opts, grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: probeRetry, Multiplier: 1, MaxDelay: probeRetry},
			MinConnectTimeout: time.Second,
		}))
	}
	conn, err := grpc.NewClient("passthrough:///"+target, opts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	ads := discovery.NewAggregatedDiscoveryServiceClient(conn)
	if c.spec.delta {
		stream, err := ads.DeltaAggregatedResources(ctx, grpc.WaitForReady(true))
		if err != nil {
			return err
		}
		return converse(c, func(m any) error { return stream.Send(m.(*discovery.DeltaDiscoveryRequest)) }, stream.Recv, c.onDelta)
	}
	stream, err := ads.StreamAggregatedResources(ctx, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	return converse(c, func(m any) error { return stream.Send(m.(*discovery.DiscoveryRequest)) }, stream.Recv, c.onSotw)
}

// converse sends the first requests on an open stream, then handles each response (decoding bounded by
// decodeSlots) until the stream or a handler fails. SotW and delta differ only in their message types.
func converse[Resp any](c *client, send func(any) error, recv func() (Resp, error), handle func(Resp) error) error {
	c.send = send
	if err := c.subscribeAll(); err != nil {
		return err
	}
	for {
		resp, err := recv()
		if err != nil {
			return err
		}
		decodeSlots <- struct{}{}
		err = handle(resp)
		<-decodeSlots
		if err != nil {
			return err
		}
	}
}

// subscribeAll sends the first requests: LDS (named or wildcard) and, for Envoy, wildcard CDS.
func (c *client) subscribeAll() error {
	for _, t := range chain {
		ts := c.types[t]
		if ts.wildcard || len(ts.names) > 0 {
			if err := c.request(t, slices.Sorted(maps.Keys(ts.names)), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// request sends a subscription for a type: the whole name set in SotW, the changes in delta.
func (c *client) request(typeURL string, subscribe, unsubscribe []string) error {
	ts := c.types[typeURL]
	var node *core.Node
	if !c.nodeSent { // like gRPC and Istio's Envoy bootstrap: the node goes on the stream's first request only
		node, c.nodeSent = c.spec.node, true
	}
	if c.spec.delta {
		ts.sent = true
		return c.send(&discovery.DeltaDiscoveryRequest{
			Node: node, TypeUrl: typeURL, ResourceNamesSubscribe: subscribe, ResourceNamesUnsubscribe: unsubscribe,
		})
	}
	var names []string
	if !ts.wildcard {
		names = slices.Sorted(maps.Keys(ts.names))
	}
	return c.send(&discovery.DiscoveryRequest{
		Node: node, TypeUrl: typeURL, ResourceNames: names, VersionInfo: ts.version, ResponseNonce: ts.nonce,
	})
}

func (c *client) onSotw(resp *discovery.DiscoveryResponse) error {
	t := resp.GetTypeUrl()
	ts, ok := c.types[t]
	if !ok {
		return fmt.Errorf("response of unrequested type %q", t)
	}
	got := make(map[string]held, len(resp.GetResources()))
	for _, a := range resp.GetResources() {
		d, err := decode(t, a, c.spec.triggerCluster)
		if err != nil {
			return err
		}
		got[d.name] = d.held
		c.noteWeight(d)
	}
	var refsChanged bool
	if t == listenerType || t == clusterType {
		refsChanged = !maps.EqualFunc(got, ts.have, sameRefs) // unequal lengths included
		ts.have = got                                         // full state: what is missing is deleted
	} else {
		for name, h := range got { // RDS/EDS: a response may name only what changed
			refsChanged = refsChanged || changesRefs(ts.have, name, h)
			ts.have[name] = h
		}
	}
	ts.version, ts.nonce, ts.responded = resp.GetVersionInfo(), resp.GetNonce(), true
	if err := c.request(t, nil, nil); err != nil { // ACK
		return err
	}
	return c.follow(t, refsChanged)
}

// sameRefs: two versions of a resource refer to the same names, so the subscriptions they imply are the same.
func sameRefs(a, b held) bool { return a.to == b.to && slices.Equal(a.refs, b.refs) }

// changesRefs: holding h as name changes what the resources of the type refer to.
func changesRefs(have map[string]held, name string, h held) bool {
	old, ok := have[name]
	if !ok {
		return len(h.refs) > 0
	}
	return !sameRefs(old, h)
}

func (c *client) onDelta(resp *discovery.DeltaDiscoveryResponse) error {
	t := resp.GetTypeUrl()
	ts, ok := c.types[t]
	if !ok {
		return fmt.Errorf("response of unrequested type %q", t)
	}
	refsChanged := false
	for _, r := range resp.GetResources() {
		d, err := decode(t, r.GetResource(), c.spec.triggerCluster)
		if err != nil {
			return err
		}
		if t == virtualHostType {
			d.name = intern(r.GetName()) // `<route configuration>/<host>`
		} else if d.name != r.GetName() {
			return fmt.Errorf("delta resource %q holds %q", r.GetName(), d.name)
		}
		refsChanged = refsChanged || changesRefs(ts.have, d.name, d.held)
		ts.have[d.name] = d.held
		c.noteWeight(d)
	}
	for _, name := range resp.GetRemovedResources() {
		refsChanged = refsChanged || len(ts.have[name].refs) > 0
		delete(ts.have, name)
	}
	ts.nonce, ts.responded = resp.GetNonce(), true
	if err := c.send(&discovery.DeltaDiscoveryRequest{TypeUrl: t, ResponseNonce: resp.GetNonce()}); err != nil { // ACK
		return err
	}
	return c.follow(t, refsChanged)
}

func (c *client) noteWeight(d decoded) {
	if d.triggerWeight >= 0 {
		c.weight.Store(int64(d.triggerWeight))
		c.observer.sawWeight(c, d.triggerWeight)
	}
}

// follow brings the subscriptions of the types after t in line with what the client now holds (the names
// that resources of earlier types refer to), then checks whether the config is complete. Only a response that
// changed what t's resources refer to can change them: a push of one virtual host or endpoint skips the walk
// over every held resource, which at 500 Envoy clients made the load generator busier than the server.
func (c *client) follow(t string, refsChanged bool) error {
	for i := slices.Index(chain[:], t) + 1; refsChanged && i < len(chain); i++ {
		nextType := chain[i]
		next := c.types[nextType]
		if next.wildcard {
			continue
		}
		want := map[string]bool{}
		for _, earlier := range chain[:i] {
			for _, h := range c.types[earlier].have {
				if h.to != nextType {
					continue
				}
				for _, r := range h.refs {
					want[r] = true
				}
			}
		}
		var added, removed []string
		for n := range want {
			if !next.names[n] {
				added = append(added, n)
			}
		}
		for n := range next.names {
			if !want[n] {
				removed = append(removed, n)
				delete(next.have, n)
			}
		}
		if nextType == virtualHostType && len(removed) > 0 { // a namespace dropped: its virtual hosts with it
			for name := range next.have {
				if i := strings.LastIndexByte(name, '/'); i >= 0 && !want[name[:i]] {
					delete(next.have, name)
				}
			}
		}
		if nextType == virtualHostType && len(added) > 0 {
			next.responded = false // complete again once the new namespaces are answered
		}
		if len(added) == 0 && len(removed) == 0 {
			continue
		}
		next.names = want
		if len(want) == 0 && !c.spec.delta && !next.sent {
			continue // an empty first SotW request would ask for everything
		}
		if err := c.request(nextType, added, removed); err != nil {
			return err
		}
		next.sent = true
	}
	if c.completeAt.Load() == 0 && c.isComplete() {
		c.completeAt.Store(time.Now().UnixNano())
		c.initialBytes.Store(c.bytes.Load())
		c.initialResponses.Store(c.responses.Load())
		c.observer.complete(c)
	}
	c.observer.updated(c)
	return nil
}

// isComplete: LDS answered, and every type holds all it subscribed to (wildcard types: answered once).
func (c *client) isComplete() bool {
	if !c.types[listenerType].responded {
		return false
	}
	for _, t := range chain {
		ts := c.types[t]
		if ts.wildcard {
			if !ts.responded {
				return false
			}
			continue
		}
		if t == virtualHostType { // names are namespaces: every one is answered, even when empty
			if len(ts.names) > 0 && !ts.responded {
				return false
			}
			continue
		}
		for n := range ts.names {
			if _, ok := ts.have[n]; !ok {
				return false
			}
		}
	}
	return true
}

// nodeFor builds the node a client presents, shaped like Istio's bootstraps so istiod accepts it too.
func nodeFor(id int, envoy bool, namespace string) *core.Node {
	ip := fmt.Sprintf("127.100.%d.%d", id/250, 1+id%250)
	pod := fmt.Sprintf("bench-client-%d", id)
	// ISTIO_VERSION: istiod warns about, and works around, clients that do not say which version they expect.
	meta := map[string]any{"ISTIO_VERSION": "1.31.0", "NAMESPACE": namespace, "INSTANCE_IPS": ip, "CLUSTER_ID": "Kubernetes", "LABELS": map[string]any{"app": "bench-client"}}
	agent := "envoy"
	if !envoy {
		meta["GENERATOR"] = "grpc"
		agent = "gRPC Go"
	}
	m, err := structpb.NewStruct(meta)
	if err != nil {
		panic(err)
	}
	return &core.Node{
		Id:            fmt.Sprintf("sidecar~%s~%s.%s~%s.svc.cluster.local", ip, pod, namespace, namespace),
		Cluster:       "bench-client." + namespace,
		Metadata:      m,
		Locality:      &core.Locality{Region: "local", Zone: "a"},
		UserAgentName: agent,
	}
}
