# Sourced by the benchmark scripts (bench/run.sh, xds-fanout.sh, compare.sh, memory.sh, hostile/slow-reader.sh),
# after hack/cluster/lib.sh: the weft.dev CRDs and bench/meshgen's synthetic mesh on a cluster, and the quiet-machine
# gate that every case waits at.

# install_weft_crds <kubeconfig>: the CRDs from manifests/, established, and the operator's namespace: the CA's
# home, as an install has it (without it the CA controller retries its Secret in the background of every case).
install_weft_crds() {
  local crd
  for crd in "$root"/manifests/weft.dev_*.yaml; do kubectl --kubeconfig "$1" apply --server-side --force-conflicts -f "$crd" >/dev/null; done
  kubectl --kubeconfig "$1" create namespace weft-system --dry-run=client -o yaml | kubectl --kubeconfig "$1" apply -f - >/dev/null
  kubectl --kubeconfig "$1" wait --for=condition=Established crd -l app.kubernetes.io/part-of=weft --timeout=120s >/dev/null
}

# apply_bench_mesh <kubeconfig> <services> <file>: meshgen's mesh of that many services, written to the file and applied.
apply_bench_mesh() {
  "$tools/meshgen" --size "$2" --api weft > "$3"
  kubectl --kubeconfig "$1" apply --server-side --force-conflicts -f "$3" >/dev/null
}

# --- the quiet-machine gate (bench/run.sh, xds-fanout.sh, compare.sh, memory.sh) ---
# Figures taken while other work runs on the same cores measure that work too. Before each case, wait_for_quiet
# waits until the 1-minute load average is below BENCH_MAX_LOAD (default 1.5), polling every 5 s, for at most
# BENCH_QUIET_TIMEOUT seconds (default 900); then the case runs anyway and counts as noisy. The load after a case
# is recorded but does not judge it: the case itself (server, load generator, API server) raises it.
bench_max_load=${BENCH_MAX_LOAD:-1.5}
load1() { cut -d' ' -f1 /proc/loadavg; }
load_above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; } # load_above <load> <threshold>

# wait_for_quiet <case name>: sets load_before, load_waited (seconds) and load_noisy (true|false).
wait_for_quiet() {
  local timeout=${BENCH_QUIET_TIMEOUT:-900} start=$SECONDS told=""
  load_noisy=false
  while load_above "$(load1)" "$bench_max_load"; do
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      printf '[bench %s] %s: load %s still at or above %s after %ss: running it anyway, marked noisy\n' \
        "$(date +%H:%M:%S)" "$1" "$(load1)" "$bench_max_load" "$timeout" >&2
      load_noisy=true; break
    fi
    [ -n "$told" ] || printf '[bench %s] %s: waiting for load %s to fall below %s (at most %ss)\n' \
      "$(date +%H:%M:%S)" "$1" "$(load1)" "$bench_max_load" "$timeout" >&2
    told=1; sleep 5
  done
  load_waited=$((SECONDS - start)); load_before=$(load1)
}

# weft_commit [checkout]: the short commit of this (or that) checkout, "-dirty" when tracked files differ from it
# outside docs/ (where the benchmarks write their own results while they run).
weft_commit() {
  local dir=${1:-$root} c
  c=$(git -C "$dir" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$dir" diff --quiet HEAD -- . ':(exclude)docs' 2>/dev/null || c="$c-dirty"
  echo "$c"
}

# annotate_result <json> [checkout]: adds to a loadgen result the load the gate saw (Load: Before, After, Threshold,
# Noisy, WaitedSeconds) and the Weft commit that ran (WeftCommit), so every figure carries both. Call right after
# the case.
annotate_result() {
  python3 - "$1" "$load_before" "$(load1)" "$bench_max_load" "$load_noisy" "$load_waited" "$(weft_commit "${2:-}")" <<'PY'
import json, sys
path, before, after, threshold, noisy, waited, commit = sys.argv[1:8]
try:
    r = json.load(open(path))
except (OSError, ValueError):
    sys.exit(0)  # the case left no result to annotate (the caller reports the failure)
r["Load"] = {"Before": float(before), "After": float(after), "Threshold": float(threshold),
             "Noisy": noisy == "true", "WaitedSeconds": int(waited)}
r["WeftCommit"] = commit
json.dump(r, open(path, "w"), indent=2)
PY
}

# settle_weft_mesh <kubeconfig> <log> [node flags...]: one operator judges the mesh and writes its status (a first
# start's burst), until its work queues stay empty for 5 s, then stops. Cases started afterwards measure an operator
# over a settled mesh, as a restarted or second replica starts; without it, the first case of a run would pay the
# burst (thousands of status writes) during its connect storm and pushes. Prints the seconds to sync and to settle.
settle_weft_mesh() {
  local kubeconfig=$1 log=$2; shift 2
  local metrics_port xds_port start=$SECONDS quiet=0 pid depth synced
  metrics_port=$(free_port); xds_port=$(free_port) # hack/cluster/lib.sh
  node "$@" "$root/dist/main.js" operator --kubeconfig "$kubeconfig" --metrics-port "$metrics_port" --ca-port 0 \
    --ca-host 127.0.0.1 --xds-port "$xds_port" > "$log" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$metrics_port/readyz" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "the operator exited (log: $log)" >&2; return 1; }
    sleep 0.5
  done
  synced=$((SECONDS - start))
  while [ "$quiet" -lt 5 ] && [ $((SECONDS - start)) -lt 1200 ]; do
    sleep 1
    depth=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" | awk '$1 ~ /^workqueue_depth/ {s += $2} END {print s + 0}')
    if [ "$depth" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
  done
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  echo "$synced $((SECONDS - start - quiet))"
}
