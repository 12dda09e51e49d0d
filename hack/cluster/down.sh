#!/usr/bin/env bash
# Stops the local control plane started by up.sh and deletes its state (set WEFT_KEEP_CLUSTER_DIR=1 to keep logs).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
pids=$CLUSTER_DIR/pids
if [ -f "$pids" ]; then
  # Stop in reverse start order so clients go before the API server, and the API server before etcd.
  tac "$pids" | while read -r name pid; do
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    log "stopped $name"
  done
  rm -f "$pids"
fi
if [ -z "${WEFT_KEEP_CLUSTER_DIR:-}" ]; then rm -rf "$CLUSTER_DIR"; fi
