package mesh

import (
	"encoding/json"
	"fmt"
	"io"
)

// API groups of the two Kubernetes-backed control planes under test.
const (
	WeftAPIVersion  = "weft.dev/v1alpha1"
	IstioAPIVersion = "networking.istio.io/v1"
)

type object = map[string]any

// HTTPRoutes is the VirtualService's `spec.http` for a v2 weight: one weighted route, v1 gets 100-v2.
// The trigger PATCHes exactly this list (a merge patch replaces lists whole).
func HTTPRoutes(s Service, v2Weight int) []any {
	dest := func(subset string, weight int) object {
		return object{
			"destination": object{"host": s.Host(), "subset": subset, "port": object{"number": Port}},
			"weight":      weight,
		}
	}
	return []any{object{"name": "split", "route": []any{dest("v1", 100-v2Weight), dest("v2", v2Weight)}}}
}

// Objects returns every object of the mesh (namespaces first) under the given API version.
func Objects(services []Service, apiVersion string) []object {
	var out []object
	for n := 0; n < Namespaces && n < len(services); n++ {
		out = append(out, object{"apiVersion": "v1", "kind": "Namespace", "metadata": object{"name": services[n].Namespace}})
	}
	for _, s := range services {
		meta := object{"name": s.Name, "namespace": s.Namespace}
		var endpoints []any
		for _, e := range s.Endpoints {
			endpoints = append(endpoints, object{"address": e.Address, "labels": object{"version": e.Version}})
		}
		out = append(out,
			object{"apiVersion": apiVersion, "kind": "ServiceEntry", "metadata": meta, "spec": object{
				"hosts":      []any{s.Host()},
				"ports":      []any{object{"number": Port, "name": "grpc", "protocol": "GRPC"}},
				"location":   "MESH_INTERNAL",
				"resolution": "STATIC",
				"endpoints":  endpoints,
			}},
			object{"apiVersion": apiVersion, "kind": "DestinationRule", "metadata": meta, "spec": object{
				"host": s.Host(),
				"subsets": []any{
					object{"name": "v1", "labels": object{"version": "v1"}},
					object{"name": "v2", "labels": object{"version": "v2"}},
				},
			}},
			object{"apiVersion": apiVersion, "kind": "VirtualService", "metadata": meta, "spec": object{
				"hosts": []any{s.Host()},
				"http":  HTTPRoutes(s, InitialV2Weight),
			}},
		)
	}
	return out
}

// WriteList writes the objects as one JSON `v1/List` (kubectl apply -f reads it in one go).
func WriteList(w io.Writer, objects []object) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(object{"apiVersion": "v1", "kind": "List", "items": objects})
}

// ResourcePath is the API server path of a mesh object of the given kind (plural, lower case).
func ResourcePath(apiVersion, plural string, s Service) string {
	return fmt.Sprintf("/apis/%s/namespaces/%s/%s/%s", apiVersion, s.Namespace, plural, s.Name)
}
