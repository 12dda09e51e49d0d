// Package mesh defines the benchmark's synthetic mesh: S services over 10 namespaces, each with a ServiceEntry
// (two static endpoints, labelled v1 and v2), a DestinationRule (subsets v1/v2) and a VirtualService (a weighted
// split, 90/10 to start). The same objects are written for Weft (weft.dev) and istiod (networking.istio.io), and
// the go-control-plane peer builds the equivalent Envoy resources from the same definition (envoy.go).
package mesh

import (
	"fmt"
)

const (
	// Namespaces the services are spread over.
	Namespaces = 10
	// Port every service listens on (gRPC).
	Port = 9080
	// InitialV2Weight is the v2 share of every VirtualService before any trigger; v1 gets the rest of 100.
	InitialV2Weight = 10
)

// Service is one service of the mesh.
type Service struct {
	Name      string
	Namespace string
	Endpoints []Endpoint
}

// Endpoint is a static address that is never dialed (127.x on loopback), with the subset it belongs to.
type Endpoint struct {
	Address string
	Version string
}

// Host is the service's FQDN, as clients address it.
func (s Service) Host() string { return fmt.Sprintf("%s.%s.svc.cluster.local", s.Name, s.Namespace) }

// Listener is the proxyless listener (and route configuration) name a client asks for: `host:port`.
func (s Service) Listener() string { return fmt.Sprintf("%s:%d", s.Host(), Port) }

// Cluster is the Istio-style cluster name `outbound|port|subset|host` (subset empty for the whole service).
func (s Service) Cluster(subset string) string {
	return fmt.Sprintf("outbound|%d|%s|%s", Port, subset, s.Host())
}

// Generate returns the services of a mesh of the given size, always the same for the same size.
func Generate(size int) []Service {
	out := make([]Service, size)
	for i := range out {
		out[i] = Service{
			Name:      fmt.Sprintf("svc-%04d", i),
			Namespace: fmt.Sprintf("bench-%d", i%Namespaces),
			Endpoints: []Endpoint{{loopback(2*i + 1), "v1"}, {loopback(2*i + 2), "v2"}},
		}
	}
	return out
}

// loopback maps n >= 1 to a distinct address in 127.16.0.0/12 (never dialed; any 127.x is loopback).
func loopback(n int) string {
	return fmt.Sprintf("127.%d.%d.%d", 16+n/65536, (n/256)%256, n%256)
}

// TriggerService is the service whose VirtualService weights the benchmark changes; every client watches it.
func TriggerService(services []Service) Service { return services[0] }
