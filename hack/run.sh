#!/usr/bin/env bash
# `make run`: uses the cluster in KUBECONFIG, or starts the local control plane, then shows it working.
# Until the operator lands (issue: operator core) this shows the cluster only; it will install Weft,
# apply a sample mesh and describe it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${KUBECONFIG:-}" ]; then
  KUBECONFIG=$(WEFT_CLUSTER_DIR=${CLUSTER_DIR:-} "$root/hack/cluster/up.sh")
  export KUBECONFIG
fi
echo "--- kubectl version"; kubectl version
echo "--- kubectl get nodes"; kubectl get nodes -o wide
echo
echo "The cluster keeps running. Use it with: export KUBECONFIG=$KUBECONFIG  (stop it with: make cluster-down)"
