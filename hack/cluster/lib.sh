# Shared settings for the local control plane scripts. Sourced, not run.
# shellcheck shell=bash
HACK_CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HACK_CLUSTER_DIR/versions.env"

WEFT_CACHE=${WEFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weft}
K8S_BIN=$WEFT_CACHE/k8s-$K8S_VERSION/bin
ETCD_BIN=$WEFT_CACHE/etcd-$ETCD_VERSION/bin
KWOK_DIR=$WEFT_CACHE/kwok-$KWOK_VERSION
KWOK_BIN=$KWOK_DIR/bin

# Where a running cluster keeps its state, certificates, logs and admin kubeconfig.
CLUSTER_DIR=${WEFT_CLUSTER_DIR:-$WEFT_CACHE/cluster}
ADMIN_KUBECONFIG=$CLUSTER_DIR/admin.kubeconfig

export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
