#!/usr/bin/env bash
# Compares Weft builds with each other and with go-control-plane (linear cache), interleaved: each round runs every
# server once per client count, one after the other, so a busy machine weighs on all of them alike.
#
#   bench/compare.sh before=/path/to/checkout-a after=/path/to/checkout-b
#
# Each checkout must have dist/ built (`make build`, or `npx tsc -p tsconfig.build.json && node hack/bundle.ts`). Needs the cluster a full benchmark run
# leaves running with BENCH_KEEP_CLUSTER=1 (the 1000-service Weft mesh applied); `WEFT_CLUSTER_DIR=
# $WEFT_CACHE/cluster-bench hack/cluster/down.sh` stops it.
# Environment: COMPARE_CLIENTS (default "2000 100"), COMPARE_ROUNDS (2), COMPARE_OUT (docs/bench/ab: one loadgen
# JSON per server, client count and round), COMPARE_PROTOCOL (sotw), COMPARE_ENV_<label> (`env` arguments for that
# label's operator, e.g. COMPARE_ENV_onearena="MALLOC_ARENA_MAX=1" to compare an environment setting), COMPARE_MODE
# (proxyless, or envoy: sidecar clients, go-control-plane serving its Envoy flavour; no floor),
# COMPARE_FLOOR=1 (adds bench/grpcjs-floor.ts: the same resources as go-control-plane served over @grpc/grpc-js with
# nothing of Weft but its listener and request decoder, with the node flags the operator runs with: the transport's own cost;
# a label starting grpcjs-floor, e.g. grpcjs-floor-before=/path/to/checkout, runs that checkout's floor instead of a Weft),
# COMPARE_ALTERNATE=1 (even rounds run the servers in reverse order), COMPARE_STORM_AFTER (e.g. 15s: the storm waits that long after the server is ready, so a restarted Weft's start-up
# work is over; default at once), COMPARE_PROFILE=1 (a V8 CPU profile per Weft run, in COMPARE_OUT/profile-<run>/, for bench/cpuprof-summary.ts),
# COMPARE_LOADGEN_PROFILE=1 (the load generator's own CPU profile of each storm, <run>.loadgen.pprof: go tool pprof -top).
# Each Weft run's log is kept beside its JSON (<run>.log): when it was ready, when its start-up compaction ran.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/hack/cluster/lib.sh"
. "$root/bench/lib.sh"
cluster=$WEFT_CACHE/cluster-bench
kubeconfig=$cluster/admin.kubeconfig
[ -f "$cluster/pids" ] || { echo "no benchmark cluster in $cluster (see the header)" >&2; exit 2; }
apiserver_pid=$(awk '$1 == "kube-apiserver" {print $2}' "$cluster/pids")
tools=$("$root/bench/build-tools.sh")
# Both checkouts run with the node flags this checkout's Deployment sets: the comparison is of the code.
node_flags=$("$root/bench/operator-node-options.sh" 2>/dev/null || true)
out=${COMPARE_OUT:-$root/docs/bench/ab}; mkdir -p "$out"
mode=${COMPARE_MODE:-proxyless}

run_one() { # label dir clients round ("gcp-linear" for go-control-plane)
  local label=$1 dir=$2 n=$3 round=$4 port pid flags file=$out/${1}_n${3}_r${4}.json
  wait_for_quiet "$label n=$n round $round" # bench/lib.sh
  port=$(free_port)
  if [ "$label" = gcp-linear ]; then
    local admin; admin=$(free_port)
    "$tools/gcp-server" --size 1000 --flavor "$mode" --cache linear --xds "127.0.0.1:$port" --admin "127.0.0.1:$admin" >/dev/null 2>&1 &
    pid=$!; flags=(--trigger-url "http://127.0.0.1:$admin/weight")
  elif [[ $label == grpcjs-floor* ]]; then
    local admin extra=(); admin=$(free_port)
    [ -n "${floor_mesh:-}" ] || { floor_mesh=$(mktemp -d)/mesh.json; "$tools/gcp-server" --size 1000 --flavor proxyless --dump "$floor_mesh"; }
    [ -z "${COMPARE_PROFILE:-}" ] || extra+=(--cpu-prof --cpu-prof-dir "$out/profile-$(basename "$file" .json)")
    # shellcheck disable=SC2086
    node $node_flags "${extra[@]}" --experimental-transform-types --no-warnings "${dir:-$root}/bench/grpcjs-floor.ts" --dump "$floor_mesh" \
      --xds "127.0.0.1:$port" --admin "127.0.0.1:$admin" >"${file%.json}.log" 2>&1 &
    pid=$!; flags=(--trigger-url "http://127.0.0.1:$admin/weight")
  else
    local env_args=COMPARE_ENV_$label flags_var=COMPARE_NODE_FLAGS_$label extra=()
    [ -z "${COMPARE_PROFILE:-}" ] || extra+=(--cpu-prof --cpu-prof-dir "$out/profile-$(basename "$file" .json)")
    [ -z "${COMPARE_TRACE_GC:-}" ] || extra+=(--trace-gc)
    # shellcheck disable=SC2086
    env ${!env_args:-} node ${!flags_var:-$node_flags} "${extra[@]}" "$dir/dist/main.js" operator --kubeconfig "$kubeconfig" --metrics-port 0 \
      --xds-port "$port" >"${file%.json}.log" 2>&1 &
    pid=$!; flags=(--kubeconfig "$kubeconfig" --api weft --apiserver-pid "$apiserver_pid")
  fi
  "$tools/loadgen" --label "$label" --target "127.0.0.1:$port" --clients "$n" --mode "$mode" --protocol "${COMPARE_PROTOCOL:-sotw}" \
    --size 1000 --triggers 5 --storm-after "${COMPARE_STORM_AFTER:-0s}" --server-pid "$pid" "${flags[@]}" \
    ${COMPARE_LOADGEN_PROFILE:+--cpu-profile "${file%.json}.loadgen.pprof"} > "$file" || true
  kill "$pid" 2>/dev/null || true
  # A profiled operator writes its profile on exit, after closing thousands of streams: give it time.
  local tenths=100; [ -z "${COMPARE_PROFILE:-}" ] || tenths=600
  for _ in $(seq 1 "$tenths"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  annotate_result "$file" "${dir:-$root}" # the load, and the commit of the checkout that ran (this one for go-control-plane)
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%-12s n=%-5s round %s, load %.2f -> %.2f%s: storm %.2f s (server CPU %.2f s), push p50 %.0f p99 %.0f ms, CPU/trigger %.2f s" % (sys.argv[2], sys.argv[3], sys.argv[4], r["Load"]["Before"], r["Load"]["After"], " (noisy)" if r["Load"]["Noisy"] else "", r["Connect"]["Seconds"], r["Connect"]["ServerCPUSeconds"], r["Push"]["Latency"]["P50"], r["Push"]["Latency"]["P99"], r["Push"]["ServerCPUSeconds"]))' \
    "$file" "$label" "$n" "$round" || echo "$label n=$n round $round: failed"
}

peers=(gcp-linear=)
if [ -n "${COMPARE_FLOOR:-}" ]; then
  [ "$mode" = proxyless ] || { echo "COMPARE_FLOOR serves proxyless clients only" >&2; exit 2; }
  peers+=(grpcjs-floor=)
fi
for round in $(seq 1 "${COMPARE_ROUNDS:-2}"); do
  order=("$@" "${peers[@]}")
  # The server that runs first in a round has tended to do better: alternate who goes first.
  if [ -n "${COMPARE_ALTERNATE:-}" ] && [ $((round % 2)) = 0 ]; then
    reversed=()
    for ((i = ${#order[@]} - 1; i >= 0; i--)); do reversed+=("${order[$i]}"); done
    order=("${reversed[@]}")
  fi
  for n in ${COMPARE_CLIENTS:-2000 100}; do
    for spec in "${order[@]}"; do run_one "${spec%%=*}" "${spec#*=}" "$n" "$round"; done
  done
done
