// loadgen runs N simulated xDS clients over real gRPC against one control plane, then changes one route's
// weights a few times and reports how fast and at what cost the change reached every client (JSON on stdout).
//
//	loadgen --target 127.0.0.1:18000 --clients 1000 --mode proxyless --protocol sotw --size 1000 \
//	        --trigger-url http://127.0.0.1:18001/weight --server-pid 1234
//
// Proxyless clients ask for `host:port` listeners by name and follow them to routes, clusters and endpoints;
// Envoy clients ask for every listener and cluster (wildcard) and follow those to routes and endpoints. Every
// resource is decoded with the Envoy protos and ACKed; a decode error or a broken stream fails the run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"weft.dev/bench/internal/mesh"
)

type config struct {
	target, mode, protocol, triggerURL, kubeconfig, api, label string
	cpuProfile                                                 string
	clients, size, watch, triggers, serverPid, apiserverPid    int
	connectTimeout, pushTimeout, settle, readyTimeout          time.Duration
	stormAfter                                                 time.Duration
	serverStarted                                              time.Time
}

func main() {
	var cfg config
	flag.StringVar(&cfg.target, "target", "127.0.0.1:18000", "ADS server address")
	flag.IntVar(&cfg.clients, "clients", 100, "simulated clients (one connection and one ADS stream each)")
	flag.StringVar(&cfg.mode, "mode", "proxyless", "proxyless (named LDS, follow RDS/CDS/EDS) or envoy (wildcard LDS/CDS)")
	flag.StringVar(&cfg.protocol, "protocol", "sotw", "sotw or delta")
	flag.IntVar(&cfg.size, "size", 100, "services in the mesh (as meshgen/gcp-server were given)")
	flag.IntVar(&cfg.watch, "watch", 10, "proxyless: services each client calls (the trigger service among them)")
	flag.IntVar(&cfg.triggers, "triggers", 5, "route changes to time")
	flag.StringVar(&cfg.triggerURL, "trigger-url", "", "go-control-plane peer: POST <url>?v2=W changes the weight")
	flag.StringVar(&cfg.kubeconfig, "kubeconfig", "", "Weft/istiod: PATCH the VirtualService through this cluster's API server")
	flag.StringVar(&cfg.api, "api", "weft", "with --kubeconfig: weft (weft.dev) or istio (networking.istio.io)")
	flag.IntVar(&cfg.serverPid, "server-pid", 0, "the server's pid, for its RSS and CPU")
	flag.IntVar(&cfg.apiserverPid, "apiserver-pid", 0, "the API server's pid, for its CPU per trigger")
	flag.DurationVar(&cfg.readyTimeout, "ready-timeout", 2*time.Minute, "wait this long for one probe client to get the whole mesh first")
	flag.DurationVar(&cfg.stormAfter, "storm-after", 0, "wait this long after the server is ready before the connect storm (0: at once, as proxies reconnecting to a restarted server)")
	flag.DurationVar(&cfg.connectTimeout, "connect-timeout", 2*time.Minute, "give up on the connect storm after this")
	flag.DurationVar(&cfg.pushTimeout, "push-timeout", time.Minute, "give up on one trigger after this")
	flag.DurationVar(&cfg.settle, "settle", time.Second, "quiet time after each phase (trailing pushes and ACKs are counted)")
	flag.StringVar(&cfg.label, "label", "", "name of the server under test, copied to the output")
	flag.StringVar(&cfg.cpuProfile, "cpu-profile", "", "write the load generator's own CPU profile of the connect storm (and its settling) to this file (go tool pprof)")
	memLimit := flag.Int64("mem-limit-mb", 4096, "soft memory limit (GC works harder near it)")
	serverStartedMs := flag.Int64("server-started-unix-ms", 0, "when the server was started (Ready.Seconds counts from it; default: loadgen's own start)")
	cfg.serverStarted = time.Now()
	flag.Parse()
	if *serverStartedMs > 0 {
		cfg.serverStarted = time.UnixMilli(*serverStartedMs)
	}
	debug.SetMemoryLimit(*memLimit << 20)

	res, err := run(cfg)
	if err != nil {
		res.Error = err.Error()
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// pushWatch is one trigger in flight: the weight to wait for and when each client saw it.
type pushWatch struct {
	expected  int
	start     int64   // unix nanos, just before the trigger call
	latency   []int64 // per client, nanos; -1 until seen
	remaining atomic.Int64
	done      chan struct{}
}

// runState is the observer all clients of the run report to.
type runState struct {
	n           int
	completed   atomic.Int64
	allComplete chan struct{}
	watch       atomic.Pointer[pushWatch]
}

func (r *runState) complete(*client) {
	if r.completed.Add(1) == int64(r.n) {
		close(r.allComplete)
	}
}

func (r *runState) updated(*client) {}

func (r *runState) sawWeight(c *client, w int) {
	p := r.watch.Load()
	if p == nil || w != p.expected {
		return
	}
	if atomic.CompareAndSwapInt64(&p.latency[c.spec.id], -1, time.Now().UnixNano()-p.start) && p.remaining.Add(-1) == 0 {
		close(p.done)
	}
}

func run(cfg config) (*Result, error) {
	res := &Result{Label: cfg.label, Target: cfg.target, Mode: cfg.mode, Protocol: cfg.protocol, Clients: cfg.clients,
		Size: cfg.size, Watch: cfg.watch, Started: time.Now().UTC().Format(time.RFC3339)}
	if cfg.mode != "proxyless" && cfg.mode != "envoy" || cfg.protocol != "sotw" && cfg.protocol != "delta" {
		return res, errors.New("--mode must be proxyless or envoy, --protocol sotw or delta")
	}
	if cfg.mode == "envoy" {
		res.Watch = 0
	}
	services := mesh.Generate(cfg.size)
	trig := mesh.TriggerService(services)
	var fire trigger
	var writes *apiWrites
	if cfg.kubeconfig != "" {
		if server, client, err := kubeClient(cfg.kubeconfig); err == nil {
			writes = &apiWrites{server: server, client: client}
		}
	}
	switch {
	case cfg.triggerURL != "":
		fire = httpTrigger(cfg.triggerURL)
	case cfg.kubeconfig != "":
		apiVersion := map[string]string{"weft": mesh.WeftAPIVersion, "istio": mesh.IstioAPIVersion}[cfg.api]
		var err error
		if fire, err = kubeTrigger(cfg.kubeconfig, apiVersion, trig); err != nil {
			return res, err
		}
	case cfg.triggers > 0:
		return res, errors.New("--trigger-url or --kubeconfig is needed to trigger changes")
	}
	specFor := func(id int) clientSpec {
		spec := clientSpec{
			id: id, envoy: cfg.mode == "envoy", delta: cfg.protocol == "delta",
			triggerCluster: trig.Cluster("v2"),
			node:           nodeFor(id, cfg.mode == "envoy", services[id%len(services)].Namespace),
		}
		if !spec.envoy {
			spec.listeners = append(spec.listeners, trig.Listener())
			for j := 0; j < cfg.watch-1 && len(services) > 1; j++ {
				spec.listeners = append(spec.listeners, services[1+(id*(cfg.watch-1)+j)%(len(services)-1)].Listener())
			}
		}
		return spec
	}

	// Wait until the server serves the whole mesh (it may still be reading it from the API server). The
	// proxyless probe also watches the last service, so a server that serves the first services of a big mesh
	// early is not taken as ready.
	probe := specFor(0)
	probe.quickRetry = true
	if last := services[len(services)-1].Listener(); !probe.envoy && !slices.Contains(probe.listeners, last) {
		probe.listeners = append(probe.listeners, last)
	}
	if err := waitReady(cfg, probe, len(services)); err != nil {
		return res, err
	}
	res.Ready.Seconds = time.Since(cfg.serverStarted).Seconds()
	res.StormAfterSeconds = cfg.stormAfter.Seconds()
	time.Sleep(cfg.stormAfter)

	meter := cpuMeter{pids: []int{cfg.serverPid, cfg.apiserverPid}}
	if cfg.serverPid != 0 {
		res.Server.RSSBaseline, _ = procRSS(cfg.serverPid)
	}

	// Connect storm: every client at once.
	state := &runState{n: cfg.clients, allComplete: make(chan struct{})}
	clients := make([]*client, cfg.clients)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failed := make(chan error, cfg.clients)
	writes0 := writes.read()
	stopProfile, err := startCPUProfile(cfg.cpuProfile)
	if err != nil {
		return res, err
	}
	cpu0, self0 := meter.read(), selfCPU()
	start := time.Now()
	for i := range clients {
		clients[i] = newClient(specFor(i), state)
		go func(c *client) {
			if err := c.run(ctx, cfg.target); err != nil && ctx.Err() == nil {
				failed <- fmt.Errorf("client %d: %w", c.spec.id, err)
			}
		}(clients[i])
	}
	select {
	case <-state.allComplete:
	case err := <-failed:
		return res, err
	case <-time.After(cfg.connectTimeout):
		return res, fmt.Errorf("connect storm: %d of %d clients complete after %s", state.completed.Load(), cfg.clients, cfg.connectTimeout)
	}
	storm := time.Since(start)
	cpuStorm := meter.read()
	writesStorm := writes.read()
	var done, initial, responses []float64
	for _, c := range clients {
		done = append(done, ms(time.Duration(c.completeAt.Load()-start.UnixNano())))
		initial = append(initial, float64(c.initialBytes.Load()))
		responses = append(responses, float64(c.initialResponses.Load()))
	}
	res.Connect = Connect{Seconds: storm.Seconds(), Complete: summarize(done), InitialBytes: summarize(initial), InitialResponses: summarize(responses)}
	time.Sleep(2 * cfg.settle)
	cpu1, self1 := meter.read(), selfCPU()
	stopProfile()
	res.Connect.ServerCPUSeconds = (cpu1[0] - cpu0[0]).Seconds()
	res.Connect.InStorm = StormCPU{Server: (cpuStorm[0] - cpu0[0]).Seconds(), APIServer: (cpuStorm[1] - cpu0[1]).Seconds()}
	res.Connect.APIWrites = since(writes0, writesStorm)
	res.Loadgen.ConnectCPUSeconds = (self1 - self0).Seconds()
	if cfg.serverPid != 0 {
		res.Server.RSSConnected, _ = procRSS(cfg.serverPid)
		res.Server.RSSPerClient = float64(res.Server.RSSConnected-res.Server.RSSBaseline) / float64(cfg.clients)
	}

	// Triggers: a new v2 weight each time; each client's latency is from just before the trigger call until
	// it holds a route configuration with that weight.
	current := int(clients[0].weight.Load())
	for _, c := range clients {
		if int(c.weight.Load()) != current {
			return res, fmt.Errorf("clients disagree on the trigger route's weight (%d vs %d) before any change", c.weight.Load(), current)
		}
	}
	res.InitialV2Weight = current
	writesPush0 := writes.read()
	var all []float64
	for k := 1; k <= cfg.triggers; k++ {
		w := mesh.InitialV2Weight + (current-mesh.InitialV2Weight+1+80)%80 // 10..89, never the current one
		p := &pushWatch{expected: w, latency: make([]int64, cfg.clients), done: make(chan struct{})}
		for i := range p.latency {
			p.latency[i] = -1
		}
		p.remaining.Store(int64(cfg.clients))
		var bytes0 int64
		for _, c := range clients {
			bytes0 += c.bytes.Load()
		}
		// The load generator collects its own garbage before the trigger, not during it: with 5000 clients a
		// collection of its heap (250-500 MB) runs ~0.3 s beside the clients' decoding, and the trigger it met came
		// out 200-300 ms late as a whole, whichever server was measured (docs/benchmarks.md, "The clients"). The
		// memory limit still collects if a push's garbage reaches it.
		runtime.GC()
		gcPercent := debug.SetGCPercent(-1)
		cpu0, self0 := meter.read(), selfCPU()
		p.start = time.Now().UnixNano()
		state.watch.Store(p)
		if err := fire(w); err != nil {
			return res, err
		}
		callDone := time.Since(time.Unix(0, p.start))
		select {
		case <-p.done:
		case err := <-failed:
			return res, err
		case <-time.After(cfg.pushTimeout):
			return res, fmt.Errorf("trigger %d: %d of %d clients saw weight %d after %s", k, int64(cfg.clients)-p.remaining.Load(), cfg.clients, w, cfg.pushTimeout)
		}
		debug.SetGCPercent(gcPercent)
		time.Sleep(cfg.settle)
		cpu1, self1 := meter.read(), selfCPU()
		var bytes1 int64
		for _, c := range clients {
			bytes1 += c.bytes.Load()
		}
		var lat []float64
		for _, l := range p.latency {
			lat = append(lat, ms(time.Duration(l)))
		}
		all = append(all, lat...)
		res.Pushes = append(res.Pushes, Push{
			V2Weight: w, StartedUnixMs: p.start / int64(time.Millisecond), TriggerCallMs: ms(callDone), Latency: summarize(lat),
			ServerCPUSeconds: (cpu1[0] - cpu0[0]).Seconds(), APIServerCPUSeconds: (cpu1[1] - cpu0[1]).Seconds(),
			LoadgenCPUSeconds: (self1 - self0).Seconds(), BytesPerClient: float64(bytes1-bytes0) / float64(cfg.clients),
		})
		current = w
	}
	res.Push.APIWrites = since(writesPush0, writes.read())
	if len(res.Pushes) > 0 {
		res.Push.Latency = summarize(all)
		for _, p := range res.Pushes {
			res.Push.ServerCPUSeconds += p.ServerCPUSeconds / float64(len(res.Pushes))
			res.Push.APIServerCPUSeconds += p.APIServerCPUSeconds / float64(len(res.Pushes))
			res.Push.BytesPerClient += p.BytesPerClient / float64(len(res.Pushes))
		}
	}
	res.Loadgen.TotalCPUSeconds = selfCPU().Seconds()
	if cfg.serverPid != 0 {
		res.Server.RSSEnd, _ = procRSS(cfg.serverPid)
	}
	return res, nil
}

// waitReady connects one probe client until it holds complete config covering the whole mesh (for Envoy, a
// cluster load assignment per cluster; for proxyless, v1 and v2 of every watched service).
func waitReady(cfg config, spec clientSpec, size int) error {
	want := 3 * size
	if !spec.envoy {
		want = 2 * len(spec.listeners)
	}
	deadline := time.Now().Add(cfg.readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		probe := &probeObserver{ready: make(chan struct{})}
		c := newClient(spec, probe)
		probe.want = want
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errc := make(chan error, 1)
		go func() { errc <- c.run(ctx, cfg.target) }()
		select {
		case <-probe.ready:
			cancel()
			<-errc
			return nil
		case last = <-errc:
		case <-ctx.Done():
			last = fmt.Errorf("probe incomplete (EDS %d of %d; %s)", probe.eds.Load(), want, probe.state.Load())
		}
		cancel()
		time.Sleep(probeRetry)
	}
	return fmt.Errorf("server not ready after %s: %v", cfg.readyTimeout, last)
}

type probeObserver struct {
	want  int
	state atomic.Value // what the probe holds, for the error message
	eds   atomic.Int64
	ready chan struct{}
	once  atomic.Bool
}

func (p *probeObserver) complete(*client)           {}
func (p *probeObserver) updated(c *client)          { p.check(c) }
func (p *probeObserver) sawWeight(c *client, _ int) {}
func (p *probeObserver) check(c *client) {
	n := len(c.types[endpointType].have)
	p.eds.Store(int64(n))
	var held []string
	for _, t := range chain {
		ts := c.types[t]
		held = append(held, fmt.Sprintf("%s %d/%d", t[strings.LastIndexByte(t, '.')+1:], len(ts.have), len(ts.names)))
	}
	p.state.Store(strings.Join(held, ", "))
	if n >= p.want && c.completeAt.Load() != 0 && p.once.CompareAndSwap(false, true) {
		close(p.ready)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Summary is a distribution: percentiles, mean and max.
type Summary struct {
	P50, P90, P99, Max, Mean float64
}

func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	at := func(q float64) float64 { return s[min(len(s)-1, int(q*float64(len(s))))] }
	var sum float64
	for _, x := range s {
		sum += x
	}
	return Summary{P50: at(0.5), P90: at(0.9), P99: at(0.99), Max: s[len(s)-1], Mean: sum / float64(len(s))}
}

// Result is the JSON report of one run.
type Result struct {
	Label, Target, Mode, Protocol string
	Clients, Size, Watch          int
	Started                       string
	InitialV2Weight               int
	Connect                       Connect
	Push                          PushSummary
	Pushes                        []Push
	Server                        struct {
		RSSBaseline, RSSConnected, RSSEnd int64
		RSSPerClient                      float64
	}
	Loadgen struct{ ConnectCPUSeconds, TotalCPUSeconds float64 }
	// Ready: seconds from the server's start (--server-started-unix-ms, else loadgen's) until the probe held
	// complete config, before any client connected.
	Ready struct{ Seconds float64 }
	// StormAfterSeconds: how long the storm waited after Ready (--storm-after; 0: at once).
	StormAfterSeconds float64 `json:",omitempty"`
	Error             string  `json:",omitempty"`
}

// Connect: Seconds until every client held complete config; per-client completion times (ms) and bytes.
type Connect struct {
	Seconds      float64
	Complete     Summary
	InitialBytes Summary
	// Responses each client took to hold complete config (a server answering an ACK, or a type twice, shows here).
	InitialResponses Summary
	ServerCPUSeconds float64
	// CPU seconds spent from the first client's dial to the last client's complete config (the server's, the API
	// server's: what competes with the clients while they connect).
	InStorm StormCPU
	// Writes the API server took in the same span, by "resource[/subresource] VERB" (with --kubeconfig).
	APIWrites map[string]int `json:",omitempty"`
}

type StormCPU struct{ Server, APIServer float64 }

type PushSummary struct {
	Latency                                               Summary
	ServerCPUSeconds, APIServerCPUSeconds, BytesPerClient float64
	// Writes the API server took from the first trigger to the end of the last one's settling, the triggers' own
	// PATCHes included, by "resource[/subresource] VERB" (with --kubeconfig).
	APIWrites map[string]int `json:",omitempty"`
}

type Push struct {
	V2Weight                                                                 int
	StartedUnixMs                                                            int64 // just before the trigger call (to line up with server logs)
	TriggerCallMs                                                            float64
	Latency                                                                  Summary
	ServerCPUSeconds, APIServerCPUSeconds, LoadgenCPUSeconds, BytesPerClient float64
}

// startCPUProfile profiles the load generator itself into path (nothing without one): where its CPU goes decoding
// one server's responses against another's. Returns how to stop it.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
