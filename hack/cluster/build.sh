#!/usr/bin/env bash
# Builds (once) the local control plane from the Go module proxy into version-keyed cache folders:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd and kwok.
# A folder that already holds every binary is reused as it is.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
ldflags+=" -X k8s.io/component-base/version.gitMajor=$(echo "$K8S_VERSION" | cut -d. -f1 | tr -d v)"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

have_all() { local dir=$1; shift; for b in "$@"; do [ -x "$dir/$b" ] || return 1; done; }

# Build into a temporary folder and rename it into place, so an interrupted build never looks complete.
build_into() {
  local final=$1; shift
  local tmp="$final.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  "$@" "$tmp"
  rm -rf "$final"; mkdir -p "$(dirname "$final")"; mv "$tmp" "$final"
}

k8s_build() {
  (cd "$HACK_CLUSTER_DIR/k8s" && go build -trimpath -ldflags "$ldflags" -o "$1/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}
etcd_build() {
  (cd "$HACK_CLUSTER_DIR/etcd" && go build -trimpath -ldflags "-s -w" -o "$1/etcd" go.etcd.io/etcd/server/v3)
}
kwok_build() {
  GOBIN="$1" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok needs Stage objects to act; the module ships them. Join the ones we use into one file beside the binary.
  local src
  src=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
  local out="$1/stages.yaml"; : > "$out"
  for f in "$src"/node/fast/node-initialize.yaml "$src"/node/heartbeat-with-lease/*.yaml "$src"/pod/fast/pod-*.yaml; do
    printf -- '---\n' >> "$out"; cat "$f" >> "$out"; printf '\n' >> "$out"
  done
}

start=$(date +%s)
if have_all "$K8S_BIN" kube-apiserver kube-controller-manager kube-scheduler kubectl; then
  log "kubernetes $K8S_VERSION: cached in $K8S_BIN"
else
  log "kubernetes $K8S_VERSION: building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (about 5 minutes on 2 cores, once)"
  build_into "$K8S_BIN" k8s_build
  log "kubernetes $K8S_VERSION: built in $(( $(date +%s) - start )) s"
fi
t=$(date +%s)
if have_all "$ETCD_BIN" etcd; then
  log "etcd $ETCD_VERSION: cached in $ETCD_BIN"
else
  log "etcd $ETCD_VERSION: building (under a minute, once)"
  build_into "$ETCD_BIN" etcd_build
  log "etcd $ETCD_VERSION: built in $(( $(date +%s) - t )) s"
fi
t=$(date +%s)
if have_all "$KWOK_BIN" kwok && [ -s "$KWOK_BIN/stages.yaml" ]; then
  log "kwok $KWOK_VERSION: cached in $KWOK_BIN"
else
  log "kwok $KWOK_VERSION: building (about a minute, once)"
  build_into "$KWOK_BIN" kwok_build
  log "kwok $KWOK_VERSION: built in $(( $(date +%s) - t )) s"
fi
log "binaries ready in $(( $(date +%s) - start )) s"
