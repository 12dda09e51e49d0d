#!/usr/bin/env bash
# Builds the benchmark's Go tools (loadgen, gcp-server, meshgen, report) once per version of their sources into
# $WEFT_CACHE/bench-tools-<hash>/ and prints that folder. Binaries are never committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--p=1}"
key=$(cd "$here" && find go.mod go.sum internal loadgen gcp-server meshgen report -type f | sort | xargs sha256sum | sha256sum | cut -c1-12)
out=${WEFT_CACHE:-$HOME/.cache/weft}/bench-tools-$key
tools="loadgen gcp-server meshgen report"
complete() { for t in $tools; do [ -x "$out/$t" ] || return 1; done; }
if ! complete; then
  echo "bench tools: building into $out (a minute or two, once per change)" >&2
  tmp="$out.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$here" && nice -n 19 go build -trimpath -o "$tmp/" ./loadgen ./gcp-server ./meshgen ./report)
  rm -rf "$out"; mv "$tmp" "$out"
fi
echo "$out"
