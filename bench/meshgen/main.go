// meshgen writes the synthetic mesh of a given size as one Kubernetes List (JSON) for Weft or istiod:
//
//	meshgen --size 1000 --api weft > mesh.json && kubectl apply --server-side -f mesh.json
package main

import (
	"flag"
	"fmt"
	"os"

	"weft.dev/bench/internal/mesh"
)

func main() {
	size := flag.Int("size", 100, "number of services")
	api := flag.String("api", "weft", "whose API group: weft (weft.dev) or istio (networking.istio.io)")
	flag.Parse()
	apiVersion := map[string]string{"weft": mesh.WeftAPIVersion, "istio": mesh.IstioAPIVersion}[*api]
	if apiVersion == "" || *size < 1 {
		fmt.Fprintln(os.Stderr, "meshgen: --api must be weft or istio and --size at least 1")
		os.Exit(2)
	}
	if err := mesh.WriteList(os.Stdout, mesh.Objects(mesh.Generate(*size), apiVersion)); err != nil {
		fmt.Fprintln(os.Stderr, "meshgen:", err)
		os.Exit(1)
	}
}
