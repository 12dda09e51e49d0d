#!/usr/bin/env bash
# The scale curve of Weft alone (issue #16): the mesh grows (SCALE_SIZES services) and at each size a fresh
# operator serves SCALE_CLIENTS simulated proxyless clients (bench/loadgen); per case the time until the operator
# serves the whole mesh, its RSS before and with the clients, the connect storm, push p50/p99 and the operator's
# CPU per change. Each case's operator starts over a mesh whose status an earlier operator wrote (settle_operator).
# Results: docs/bench/scale/weft_s<size>_c<clients>.json; the table, fitted growth exponents and SVG plots
# (bench/report --scale) in the scale section of docs/benchmarks.md and docs/bench/scale/.
#
#   bench/scale.sh                 # 100 1000 3000 10000 services x 100 1000 3000 10000 clients, SotW, 3 triggers
#   SCALE_SIZES="100 1000 3000" SCALE_CLIENTS="100 1000" bench/scale.sh
#   SCALE_REPORT_ONLY=1 bench/scale.sh   # only rewrites the section and plots from the JSON
#
# SCALE_PROTOCOL (sotw|delta), SCALE_TRIGGERS, SCALE_CONNECT_TIMEOUT and SCALE_READY_TIMEOUT (loadgen durations)
# tune the cases; SCALE_OUT and SCALE_DOC send the JSON, plots and table elsewhere (trial runs);
# SCALE_KEEP_CLUSTER=1 keeps the cluster afterwards; BENCH_NO_WEFT_BUILD=1 uses dist/ as it is. Each case waits at the quiet-machine gate of bench/lib.sh
# (BENCH_MAX_LOAD, BENCH_QUIET_TIMEOUT). At a size, a failed case skips the bigger client counts (they would
# fail too, slower). Its own local control plane (cluster-scale-bench) and work folder, so it collides with no
# other benchmark script.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/hack/cluster/lib.sh"
. "$root/bench/lib.sh"
export PATH="$K8S_BIN:$PATH"
sizes=${SCALE_SIZES:-100 1000 3000 10000}; clients=${SCALE_CLIENTS:-100 1000 3000 10000}
protocol=${SCALE_PROTOCOL:-sotw}; triggers=${SCALE_TRIGGERS:-3}
connect_timeout=${SCALE_CONNECT_TIMEOUT:-5m}; ready_timeout=${SCALE_READY_TIMEOUT:-10m}
out=${SCALE_OUT:-$root/docs/bench/scale}; doc=${SCALE_DOC:-$root/docs/benchmarks.md}
work=$WEFT_CACHE/scale-bench; mkdir -p "$out" "$work"
say() { printf '[scale-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

tools=$("$root/bench/build-tools.sh")
write_report() { "$tools/report" --scale --in "$out" --doc "$doc"; }
[ -z "${SCALE_REPORT_ONLY:-}" ] || { write_report; exit 0; }

[ -n "${BENCH_NO_WEFT_BUILD:-}" ] || (cd "$root" && make --no-print-directory build >/dev/null) # as bench/run.sh: 1 uses dist/ as it is
node_flags=$("$root/bench/operator-node-options.sh") # as the Deployment runs it
export WEFT_CLUSTER_DIR=$WEFT_CACHE/cluster-scale-bench
kubeconfig=$("$root/hack/cluster/up.sh")
server_pid=0
cleanup() {
  [ "$server_pid" = 0 ] || kill "$server_pid" 2>/dev/null || true
  [ -n "${SCALE_KEEP_CLUSTER:-}" ] || "$root/hack/cluster/down.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT
apiserver_pid=$(awk '$1 == "kube-apiserver" {print $2}' "$WEFT_CLUSTER_DIR/pids")
install_weft_crds "$kubeconfig"

# grow_mesh <from> <to>: applies the services meshgen numbers from..to-1. meshgen's mesh of size N is the first N
# services of any bigger one (svc-0000, svc-0001, ... in the same namespaces), so the mesh grows by applying only
# the new services; re-applying the old ones would cost minutes of API server work at 10 000 services and would
# reset the trigger's weight.
grow_mesh() {
  "$tools/meshgen" --size "$2" --api weft | python3 -c '
import json, sys
first = int(sys.argv[1])
mesh = json.load(sys.stdin)
def index(o):  # svc-0042 -> 42; Namespaces (no index) go with the first batch
    name = o["metadata"]["name"]
    return int(name[4:]) if name.startswith("svc-") else -1
mesh["items"] = [o for o in mesh["items"] if index(o) >= first or (first == 0 and index(o) < 0)]
json.dump(mesh, sys.stdout)' "$1" > "$work/mesh-$1-$2.json"
  kubectl --kubeconfig "$kubeconfig" apply --server-side --force-conflicts -f "$work/mesh-$1-$2.json" >/dev/null
  rm -f "$work/mesh-$1-$2.json"
}

# wait_listening <port> <pid>: until the operator accepts TCP connections on its xDS port (false if it exits).
wait_listening() {
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
}

# settle_operator <size>: after the mesh grew, one operator writes the new services' status (bench/lib.sh's
# settle_weft_mesh), so that every client count at a size starts over the same settled mesh.
settle_operator() {
  local times
  # shellcheck disable=SC2086
  times=$(settle_weft_mesh "$kubeconfig" "$work/settle_s$1.log" $node_flags) || { say "settling $1 services failed"; return 1; }
  set -- "$1" $times
  say "first start over $1 services: synced after $2 s, queues empty after $3 s"
}

rm -f "$out"/weft_s*_c*.json "$out"/*.svg
applied=0
for size in $(printf '%s\n' $sizes | sort -n); do
  t0=$SECONDS
  say "growing the mesh from $applied to $size services"
  grow_mesh "$applied" "$size"; applied=$size
  say "mesh of $size services applied in $((SECONDS - t0)) s"
  settle_operator "$size" || true
  failed_at=""
  for n in $(printf '%s\n' $clients | sort -n); do
    name=weft_s${size}_c${n}
    if [ -n "$failed_at" ]; then
      say "$name: skipped ($failed_at clients failed at $size services)"; continue
    fi
    wait_for_quiet "$name" # bench/lib.sh: a quiet machine first, the load around the case into its JSON
    port=$(free_port)
    started=$(now_ms)
    node $node_flags "$root/dist/main.js" operator --kubeconfig "$kubeconfig" --metrics-port 0 --ca-port 0 --xds-port "$port" > "$work/$name.log" 2>&1 &
    server_pid=$!
    if wait_listening "$port" "$server_pid"; then
      say "$name: operator listening after $(( $(now_ms) - started )) ms; $n clients, $size services"
      if "$tools/loadgen" --label weft --target "127.0.0.1:$port" --clients "$n" --mode proxyless --protocol "$protocol" \
           --size "$size" --triggers "$triggers" --server-pid "$server_pid" --kubeconfig "$kubeconfig" --api weft \
           --apiserver-pid "$apiserver_pid" --server-started-unix-ms "$started" --ready-timeout "$ready_timeout" \
           --connect-timeout "$connect_timeout" > "$out/$name.json" 2> "$work/$name.err"; then
        say "$name: done in $(( ($(now_ms) - started) / 1000 )) s"
      else
        say "$name: FAILED: $(tail -n 1 "$work/$name.err")"; failed_at=$n # its JSON keeps the error for the table
      fi
    else
      say "$name: FAILED: the operator exited before listening (log: $work/$name.log)"; failed_at=$n
    fi
    kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=0
    [ ! -f "$out/$name.json" ] || annotate_result "$out/$name.json"
  done
done
write_report
