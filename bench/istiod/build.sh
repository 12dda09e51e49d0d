#!/usr/bin/env bash
# Builds istiod (pilot-discovery) once from the Go module proxy into a version-keyed cache folder, and extracts
# Istio's CRDs from the same module. Prints the folder. A folder holding both is reused as it is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--p=1}"
version=$(cd "$here" && go list -m -f '{{.Version}}' istio.io/istio)
out=${WEFT_CACHE:-$HOME/.cache/weft}/bench-istiod-$version
if [ -x "$out/pilot-discovery" ] && [ -s "$out/crd-all.gen.yaml" ]; then echo "$out"; exit 0; fi
echo "istiod $version: building pilot-discovery (several minutes on 2 cores, once)" >&2
tmp="$out.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
(cd "$here" && nice -n 19 go build -trimpath -ldflags "-s -w" -o "$tmp/pilot-discovery" istio.io/istio/pilot/cmd/pilot-discovery)
moddir=$(cd "$here" && go list -m -f '{{.Dir}}' istio.io/istio)
cp "$moddir/manifests/charts/base/files/crd-all.gen.yaml" "$tmp/"
rm -rf "$out"; mv "$tmp" "$out"
echo "$out"
