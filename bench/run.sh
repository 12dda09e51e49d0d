#!/usr/bin/env bash
# Runs the control-plane benchmark side by side: Weft, istiod and go-control-plane (linear and snapshot cache),
# same synthetic mesh, same load generator, one machine. `make bench` = quick, `make bench-full` = full.
#
#   bench/run.sh quick|full
#
# Builds what it lacks (the Go tools and istiod into version-keyed folders under $WEFT_CACHE, Weft with tsc),
# starts its own local control plane (hack/cluster) and stops it at the end, writes one JSON per case and repeat to
# docs/bench/<profile>/ and the tables and plots into docs/benchmarks.md and docs/bench/<profile>/.
# Environment: BENCH_PEERS (default "gcp-linear gcp-snapshot weft istiod") picks the servers; BENCH_CLIENTS,
# BENCH_ENVOY_CLIENTS,
# BENCH_MODES, BENCH_PROTOCOLS, BENCH_SIZE, BENCH_TRIGGERS override the profile; BENCH_OUT and BENCH_DOC send
# the results elsewhere (trial runs); BENCH_ONLY (a regex of case names) and BENCH_KEEP_RESULTS=1 rerun some
# cases; BENCH_KEEP_CLUSTER=1 keeps the cluster running afterwards.
# Honest figures: each case runs BENCH_REPEATS times (default 3), the peers interleaved repeat after repeat, each
# after the quiet-machine gate of bench/lib.sh (BENCH_MAX_LOAD, default 1.5; BENCH_QUIET_TIMEOUT, default 900 s); a
# repeat the gate marks noisy is kept, marked, and run again up to BENCH_NOISY_RETRIES times (default 2). Every JSON
# carries the load before and after it and the Weft commit; the report shows medians, spreads and both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/bench
. "$root/hack/cluster/lib.sh"
. "$root/bench/lib.sh"
export PATH="$K8S_BIN:$PATH"
profile=${1:-quick}

case $profile in
  quick) size=200; clients="100 500"; envoy_clients="100"; modes="proxyless"; protocols="sotw"; triggers=3 ;;
  # Envoy clients stop at 500: each holds the whole mesh (~3 MB of config at 1000 services) and the load
  # generator decodes all of it, which past ~500 clients takes minutes of CPU on 2 shared cores.
  full) size=1000; clients="100 1000 2000"; envoy_clients="100 500"; modes="proxyless envoy"; protocols="sotw delta"; triggers=5 ;;
  *) echo "usage: bench/run.sh quick|full" >&2; exit 2 ;;
esac
size=${BENCH_SIZE:-$size}; clients=${BENCH_CLIENTS:-$clients}; envoy_clients=${BENCH_ENVOY_CLIENTS:-$envoy_clients}; modes=${BENCH_MODES:-$modes}
protocols=${BENCH_PROTOCOLS:-$protocols}; triggers=${BENCH_TRIGGERS:-$triggers}
peers=${BENCH_PEERS:-gcp-linear gcp-snapshot weft istiod}
out=${BENCH_OUT:-$root/docs/bench/$profile}; doc=${BENCH_DOC:-$root/docs/benchmarks.md}
work=$WEFT_CACHE/bench-run; mkdir -p "$work" "$out"
say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- build (each once; the folder names carry the version or a hash of the sources) ---
tools=$("$bench/build-tools.sh")
say "bench tools: $tools"
istiod_dir=""
if [[ " $peers " == *" istiod "* ]]; then istiod_dir=$("$bench/istiod/build.sh"); say "istiod: $istiod_dir"; fi
weft_ok=""
if [[ " $peers " == *" weft "* ]]; then
  # BENCH_NO_WEFT_BUILD=1 uses dist/ as it is (on a busy machine tsc alone can take many minutes).
  [ -n "${BENCH_NO_WEFT_BUILD:-}" ] ||
    (cd "$root" && make --no-print-directory build >/dev/null 2>&1) || say "make build reported errors (using dist/ as emitted)"
  if node "$root/dist/main.js" help 2>/dev/null | grep -q -- '--xds-port'; then weft_ok=1
  else say "Weft: dist/main.js has no --xds-port yet; Weft is left out of this run"; fi
fi
# Weft runs with the node flags its Deployment sets (what users install).
node_flags=""; [ -z "$weft_ok" ] || node_flags=$("$root/bench/operator-node-options.sh" 2>/dev/null || true)

# --- cluster, CRDs and the mesh (both API groups), only when a Kubernetes-backed peer runs ---
kubeconfig=""; apiserver_pid=0
if [ -n "$istiod_dir$weft_ok" ]; then
  export WEFT_CLUSTER_DIR=$WEFT_CACHE/cluster-bench
  kubeconfig=$("$root/hack/cluster/up.sh")
  [ -n "${BENCH_KEEP_CLUSTER:-}" ] || trap '"$root/hack/cluster/down.sh" >/dev/null 2>&1 || true' EXIT
  apiserver_pid=$(awk '$1 == "kube-apiserver" {print $2}' "$WEFT_CLUSTER_DIR/pids")
  k() { kubectl --kubeconfig "$kubeconfig" "$@"; }
  install_weft_crds "$kubeconfig"
  [ -z "$istiod_dir" ] || k apply --server-side -f "$istiod_dir/crd-all.gen.yaml" >/dev/null
  k create namespace istio-system --dry-run=client -o yaml | k apply -f - >/dev/null
  k wait --for=condition=Established crd --all --timeout=120s >/dev/null
  for api in ${weft_ok:+weft} ${istiod_dir:+istio}; do
    say "applying the $size-service mesh for $api"
    "$tools/meshgen" --size "$size" --api "$api" > "$work/mesh-$api.json"
    k apply --server-side --force-conflicts -f "$work/mesh-$api.json" >/dev/null
  done
  # Weft's cases start over a mesh whose status an operator already wrote (as a restart or a second replica does),
  # not the first one of a run alone paying the first start's burst of status writes during its measurements.
  if [ -n "$weft_ok" ]; then
    # shellcheck disable=SC2086
    if settled=$(settle_weft_mesh "$kubeconfig" "$work/settle.log" $node_flags); then
      read -r synced_s settled_s <<< "$settled"
      say "Weft's first start over the mesh: synced after $synced_s s, queues empty after $settled_s s"
    else say "settling the mesh failed (log: $work/settle.log)"; fi
  fi
fi

# --- servers: each case gets a fresh server process, so RSS and CPU are its own ---
server_pid=0
start_server() { # peer mode -> sets server_pid, xds_port, and loadgen's trigger flags
  local peer=$1 mode=$2
  xds_port=$(free_port)
  case $peer in
    gcp-linear|gcp-snapshot)
      local admin_port; admin_port=$(free_port)
      "$tools/gcp-server" --size "$size" --flavor "$mode" --cache "${peer#gcp-}" \
        --xds "127.0.0.1:$xds_port" --admin "127.0.0.1:$admin_port" > "$work/$name.server.log" 2>&1 &
      trigger_flags=(--trigger-url "http://127.0.0.1:$admin_port/weight") ;;
    istiod)
      # istiod throttles new xDS connections to 25/s (burst 100) by default; raised here so the connect storm
      # measures istiod, not its rate limiter. Everything else is istiod's default (debounce 100 ms included).
      POD_NAMESPACE=istio-system POD_NAME=istiod-bench REVISION=default \
      PILOT_MAX_REQUESTS_PER_SECOND=100000 PILOT_MAX_REQUESTS_BURST=100000 \
      VALIDATION_WEBHOOK_CONFIG_NAME="" INJECTION_WEBHOOK_CONFIG_NAME="" \
      "$istiod_dir/pilot-discovery" discovery --kubeconfig "$kubeconfig" \
        --grpcAddr "127.0.0.1:$xds_port" --httpAddr "127.0.0.1:$(free_port)" --httpsAddr "" \
        --monitoringAddr "127.0.0.1:$(free_port)" --secureGRPCAddr "" --shutdownDuration 1s \
        --ctrlz_address 127.0.0.1 --ctrlz_port "$(free_port)" \
        --domain cluster.local --log_output_level default:warn > "$work/$name.server.log" 2>&1 &
      trigger_flags=(--kubeconfig "$kubeconfig" --api istio --apiserver-pid "$apiserver_pid") ;;
    weft)
      # BENCH_PROFILE_WEFT=1: a V8 CPU profile per case, summarised beside the JSON (bench/cpuprof-summary.ts); kept
      # under $WEFT_CACHE/bench-run/profile-<case> with BENCH_KEEP_PROFILE=1, to summarise a phase (--from/--to).
      local prof=()
      [ -z "${BENCH_PROFILE_WEFT:-}" ] || prof=(--cpu-prof --cpu-prof-dir "$work/profile-$name")
      node $node_flags "${prof[@]}" "$root/dist/main.js" operator --kubeconfig "$kubeconfig" --metrics-port 0 --xds-port "$xds_port" \
        > "$work/$name.server.log" 2>&1 &
      trigger_flags=(--kubeconfig "$kubeconfig" --api weft --apiserver-pid "$apiserver_pid") ;;
  esac
  server_pid=$!
}
stop_server() {
  [ "$server_pid" != 0 ] || return 0
  kill "$server_pid" 2>/dev/null || true
  # A profiled Weft writes its profile on exit, after closing thousands of streams: give it time.
  local tenths=50; [ -z "${BENCH_PROFILE_WEFT:-}" ] || tenths=600
  for _ in $(seq 1 "$tenths"); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=0
}
name=""
trap 'stop_server; [ -n "${BENCH_KEEP_CLUSTER:-}" ] || [ -z "$kubeconfig" ] || "$root/hack/cluster/down.sh" >/dev/null 2>&1 || true' EXIT

# A run replaces its peers' results (other peers' stay); BENCH_KEEP_RESULTS=1 replaces only the cases it runs.
[ -n "${BENCH_KEEP_RESULTS:-}" ] || for peer in $peers; do rm -f "$out/${peer}_"*.json "$out/${peer}_"*.cpuprofile.md; done
runnable=()
for peer in $peers; do
  case $peer in
    istiod) [ -n "$istiod_dir" ] || continue ;;
    weft) [ -n "$weft_ok" ] || continue ;;
  esac
  runnable+=("$peer")
done

# run_case <peer> <mode> <protocol> <clients> <file>: one server, one loadgen run into <file>, annotated with the
# load around it and the Weft commit. Fails when the load generator does.
run_case() {
  local peer=$1 mode=$2 protocol=$3 n=$4 file=$5 status=0
  wait_for_quiet "$name"
  start_server "$peer" "$mode"
  "$tools/loadgen" --label "$peer" --target "127.0.0.1:$xds_port" --clients "$n" --mode "$mode" \
    --protocol "$protocol" --size "$size" --triggers "$triggers" --server-pid "$server_pid" \
    "${trigger_flags[@]}" > "$file" 2> "$work/$name.err" || status=$?
  stop_server
  annotate_result "$file"
  return "$status"
}

# Interleaved: for each case, every peer once per repeat (weft, gcp-linear, ..., weft, gcp-linear, ...), so a
# change in the machine's load weighs on all peers alike. Each repeat is its own JSON (<case>.r<k>.json); a repeat
# the gate marked noisy is kept as <case>.r<k>.noisy<j>.json and run again, at most BENCH_NOISY_RETRIES times.
repeats=${BENCH_REPEATS:-3}; noisy_retries=${BENCH_NOISY_RETRIES:-2}
declare -A gave_up=() # peer_mode_protocol -> why: a server that failed is not tried again in that mode and protocol
for mode in $modes; do
  for protocol in $protocols; do
    counts=$clients; [ "$mode" = proxyless ] || counts=$envoy_clients
    for n in $counts; do
      for r in $(seq 1 "$repeats"); do
        for peer in "${runnable[@]}"; do
          case_name=${peer}_${mode}_${protocol}_n${n}
          [[ $case_name =~ ${BENCH_ONLY:-.} ]] || continue # BENCH_ONLY: a regular expression of case names to run
          # A server that failed with fewer clients is not tried with more ("at the sizes it finishes").
          if [ -n "${gave_up[${peer}_${mode}_${protocol}]:-}" ]; then
            [ "$r" != 1 ] || say "$case_name: skipped (${gave_up[${peer}_${mode}_${protocol}]})"; continue
          fi
          # BENCH_KEEP_RESULTS: a case run again loses its earlier repeats, so its figures come from one run.
          [ "$r" != 1 ] || rm -f "$out/$case_name.json" "$out/$case_name".r*.json
          name=$case_name.r$r; file=$out/$name.json
          say "$name: $n clients, $size services (repeat $r of $repeats)"
          for attempt in $(seq 0 "$noisy_retries"); do
            ok=1; run_case "$peer" "$mode" "$protocol" "$n" "$file" || ok=""
            [ "$load_noisy" = true ] && [ "$attempt" -lt "$noisy_retries" ] || break
            mv "$file" "$out/$name.noisy$((attempt + 1)).json"
            say "$name: noisy (load $load_before at the start), kept as $name.noisy$((attempt + 1)).json; again"
          done
          if [ -n "$ok" ]; then
            say "$name: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("storm %.2fs, push p50 %.0fms p99 %.0fms, RSS/client %.1f KB, load %.2f -> %.2f%s" % (r["Connect"]["Seconds"], r["Push"]["Latency"]["P50"], r["Push"]["Latency"]["P99"], r["Server"]["RSSPerClient"]/1024, r["Load"]["Before"], r["Load"]["After"], " (noisy)" if r["Load"]["Noisy"] else ""))' "$file")"
          else
            say "$name: FAILED: $(tail -n 1 "$work/$name.err")"
            gave_up[${peer}_${mode}_${protocol}]="failed with $n clients"
          fi
          if [ -n "${BENCH_PROFILE_WEFT:-}" ] && [ "$peer" = weft ] && ls "$work/profile-$name"/*.cpuprofile >/dev/null 2>&1; then
            node "$bench/cpuprof-summary.ts" "$(ls -t "$work/profile-$name"/*.cpuprofile | head -1)" 25 > "$out/$name.cpuprofile.md"
            [ -n "${BENCH_KEEP_PROFILE:-}" ] || rm -rf "$work/profile-$name" # BENCH_KEEP_PROFILE=1: for --from/--to
          fi
        done
      done
    done
  done
done

# --- what ran where, then the tables and plots ---
{
  echo "{"
  echo "  \"profile\": \"$profile\", \"size\": $size, \"triggers\": $triggers, \"repeats\": $repeats, \"maxLoad\": $bench_max_load, \"date\": \"$(date -u +%FT%TZ)\","
  echo "  \"cpu\": \"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\", \"cores\": $(nproc), \"memGiB\": $(free -g | awk '/^Mem:/ {print $2}'),"
  echo "  \"kernel\": \"$(uname -r)\", \"go\": \"$(go env GOVERSION)\", \"node\": \"$(node --version)\", \"kubernetes\": \"$K8S_VERSION\","
  echo "  \"istio\": \"$(cd "$bench/istiod" && go list -m -f '{{.Version}}' istio.io/istio)\","
  echo "  \"goControlPlane\": \"$(cd "$bench" && go list -m -f '{{.Version}}' github.com/envoyproxy/go-control-plane)\","
  echo "  \"grpcGo\": \"$(cd "$bench" && go list -m -f '{{.Version}}' google.golang.org/grpc)\","
  echo "  \"weftCommit\": \"$(weft_commit)\", \"weftIncluded\": $([ -n "$weft_ok" ] && echo true || echo false),"
  echo "  \"istiodEnv\": \"PILOT_MAX_REQUESTS_PER_SECOND=100000 PILOT_MAX_REQUESTS_BURST=100000\""
  echo "}"
} > "$out/meta.json"
# The full run also writes the headline (docs/benchmarks.md's summary); BENCH_SUMMARY=1 makes any run do so.
summary=(); [ "$profile" != full ] && [ -z "${BENCH_SUMMARY:-}" ] || summary=(--summary)
"$tools/report" --in "$out" --doc "$doc" "${summary[@]}"
say "results: $doc, $out/"
