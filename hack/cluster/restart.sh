#!/usr/bin/env bash
# Restarts one component of the running local control plane with the same command line, e.g.
#   hack/cluster/restart.sh kube-apiserver
# Used by e2e tests to prove that watches and controllers survive an API server restart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
component=$1
pids=$CLUSTER_DIR/pids
pid=$(awk -v c="$component" '$1 == c { print $2 }' "$pids")
[ -n "$pid" ] || { log "no $component in $pids"; exit 1; }
mapfile -d '' cmd < "/proc/$pid/cmdline"
# up.sh started the components by name from these folders: find them again whatever the caller's PATH.
export PATH="$K8S_BIN:$ETCD_BIN:$KWOK_BIN:$PATH"
kill -TERM -- "-$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL -- "-$pid" 2>/dev/null || true
setsid "${cmd[@]}" >> "$CLUSTER_DIR/logs/$component.log" 2>&1 < /dev/null &
awk -v c="$component" -v p="$!" '$1 == c { $2 = p } { print }' "$pids" > "$pids.new" && mv "$pids.new" "$pids"
if [ "$component" = kube-apiserver ]; then
  for _ in $(seq 1 300); do
    kubectl --kubeconfig "$ADMIN_KUBECONFIG" get --raw /readyz >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
log "restarted $component (pid $!)"
