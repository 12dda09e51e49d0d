#!/usr/bin/env bash
# Memory of the operator at rest: the N-service mesh (meshgen: a ServiceEntry, DestinationRule and VirtualService per
# service) applied, the operator started with xDS on and no client connected, and once it is synced and its status
# writes are done, its RSS, V8 heap and (optionally) a heap snapshot's summary. One JSON per run under
# docs/bench/memory/, from which `bench/memory-report.ts` writes the Memory section of docs/benchmarks.md.
#
#   bench/memory.sh <label> [size...]        e.g. bench/memory.sh baseline 1000
#
# Each size is measured twice: `fresh` (the mesh applied anew with no status, so the operator judges and writes
# every object's status, as on a first install) and `restart` (the operator started again over the statuses it
# wrote: what a restarted or second replica holds). Uses the cluster in KUBECONFIG, else starts its own
# (hack/cluster) and stops it at the end. MEMORY_SNAPSHOT=1 adds a heap snapshot summary (bench/heap-summary.mjs);
# The operator runs with the NODE_OPTIONS that manifests/ give its Deployment (what users install);
# MEMORY_NODE_FLAGS replaces them (experiments); MEMORY_DIST runs another build of Weft (default dist/);
# MEMORY_OUT sends the JSON elsewhere. MALLOC_* variables reach the operator (glibc's tunables, or MALLOC_CONF for
# jemalloc) and MEMORY_PRELOAD is its LD_PRELOAD (another allocator); both are recorded with the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/hack/cluster/lib.sh"
. "$root/bench/lib.sh"
export PATH="$K8S_BIN:$PATH"
label=${1:?usage: bench/memory.sh <label> [size...]}; shift
sizes=${*:-1000}
out=${MEMORY_OUT:-$root/docs/bench/memory}; mkdir -p "$out"
work=$WEFT_CACHE/bench-memory; mkdir -p "$work"
say() { printf '[memory %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
tools=$("$root/bench/build-tools.sh")
dist=${MEMORY_DIST:-$root/dist}
[ -f "$dist/main.js" ] || (cd "$root" && make --no-print-directory build >/dev/null)

if [ -z "${KUBECONFIG:-}" ]; then
  export WEFT_CLUSTER_DIR=$WEFT_CACHE/cluster-memory
  KUBECONFIG=$("$root/hack/cluster/up.sh"); export KUBECONFIG
  trap '"$root/hack/cluster/down.sh" >/dev/null 2>&1 || true' EXIT
fi
install_weft_crds "$KUBECONFIG"

# The Deployment's NODE_OPTIONS, unless MEMORY_NODE_FLAGS is set (even empty).
installed_node_options=$("$root/bench/operator-node-options.sh" 2>/dev/null || true)
node_flags=${MEMORY_NODE_FLAGS-$installed_node_options}

pid=0
stop_operator() {
  [ "$pid" != 0 ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=0
}
trap 'stop_operator; [ -z "${WEFT_CLUSTER_DIR:-}" ] || "$root/hack/cluster/down.sh" >/dev/null 2>&1 || true' EXIT

metric() { curl -sf "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
depth() { curl -sf "http://127.0.0.1:$metrics_port/metrics" | awk '$1 ~ /^workqueue_depth/ {s += $2} END {print s + 0}'; }
# Runs the operator until synced, its queues empty and its status writes done (nothing left unreconciled for 10 s),
# then writes one JSON.
measure() { # size phase
  local size=$1 phase=$2 name="${label}_n$1_$2"
  wait_for_quiet "$name" # bench/lib.sh: RSS after a start-up burst depends on how fast the shared machine answers
  metrics_port=$(free_port)
  local dir="$work/$name"; rm -rf "$dir"; mkdir -p "$dir"
  # The CA on a free port (--ca-port 0): with weft-system present it serves, and 15012 may be taken by a test.
  # shellcheck disable=SC2086
  (cd "$dir" && exec env ${MEMORY_PRELOAD:+LD_PRELOAD=$MEMORY_PRELOAD} node --heapsnapshot-signal=SIGUSR2 $node_flags "$dist/main.js" operator \
    --kubeconfig "$KUBECONFIG" --metrics-port "$metrics_port" --xds-port "$(free_port)" --ca-port 0 --ca-host 127.0.0.1 > operator.log 2>&1) &
  pid=$!
  local start=$SECONDS quiet=0
  until curl -sf "http://127.0.0.1:$metrics_port/readyz" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { tail -5 "$dir/operator.log" >&2; exit 1; }
    sleep 0.5
  done
  local synced=$((SECONDS - start)) peak=0 rss
  while [ "$quiet" -lt 10 ]; do
    sleep 1
    rss=$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
    [ "$rss" -le "$peak" ] || peak=$rss
    if [ "$(depth)" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
    [ $((SECONDS - start)) -lt 1200 ] || { say "$name: queues not empty after 20 min"; break; }
  done
  local settled=$((SECONDS - start))
  sleep 5
  local hwm; hwm=$(awk '/^VmHWM/ {print $2 * 1024}' "/proc/$pid/status")
  rss=$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
  local heap_used heap_total external malloc_heap
  heap_used=$(metric nodejs_heap_size_used_bytes); heap_total=$(metric nodejs_heap_size_total_bytes); external=$(metric nodejs_external_memory_bytes)
  malloc_heap=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {name = $6} /^Rss:/ && name == "[heap]" {s += $2} END {print s * 1024}' "/proc/$pid/smaps")
  # V8 gives back what the start-up burst grew only once the process has been idle a while (its memory reducer):
  # RSS a minute later too.
  local rss_later=None # Python: this is pasted into the JSON writer below
  if [ -n "${MEMORY_REST_SECONDS:-60}" ] && [ "${MEMORY_REST_SECONDS:-60}" != 0 ]; then
    sleep "${MEMORY_REST_SECONDS:-60}"
    rss_later=$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
  fi
  # Where the RSS is, by mapping (after the rest): the node binary's pages (file-backed: code and read-only data
  # touched, the same kind for any Node process), glibc's main arena ([heap]), its other arenas (the heaps of
  # threads that allocate: each a 64 MiB-aligned reservation of 64 MiB, committed from its start), the other
  # anonymous mappings (the V8 heap, code and stacks), shared libraries, other files.
  local by_mapping
  by_mapping=$(python3 - "$pid" <<'PY'
import json, re, sys
arena = 64 << 20  # glibc's HEAP_MAX_SIZE on 64-bit
maps = []  # [start, end, perms, path, rss]
for line in open(f"/proc/{sys.argv[1]}/smaps"):
    m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$", line)
    if m:
        maps.append([int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4).strip(), 0])
    elif line.startswith("Rss:"):
        maps[-1][4] = int(line.split()[1]) * 1024
def thread_arena(i):
    start, end, perms, path, _ = maps[i]
    if path or perms != "rw-p" or start % arena:
        return False
    if (end - start) % arena == 0:
        return True  # wholly committed (adjacent heaps may share one mapping)
    after = maps[i + 1] if i + 1 < len(maps) else None
    return bool(after and after[0] == end and after[2] == "---p" and not after[3] and after[1] == start + arena)
groups = {}
for i, (start, end, perms, path, rss) in enumerate(maps):
    name = ("node binary" if path.endswith("/node") else "shared libraries" if ".so" in path else "other files" if path.startswith("/")
            else "malloc main arena" if path == "[heap]" else "malloc thread arenas" if thread_arena(i) else "anonymous" if path == "" else path)
    groups[name] = groups.get(name, 0) + rss
print(json.dumps(groups))
PY
)
  local snapshot=null # parsed by json.loads below
  if [ -n "${MEMORY_SNAPSHOT:-}" ]; then
    kill -USR2 "$pid"
    # The snapshot is written while the process stands still; done when its size stops changing.
    local last=-1 size_now
    for _ in $(seq 1 600); do
      sleep 2
      size_now=$(stat -c %s "$dir"/*.heapsnapshot 2>/dev/null || echo 0)
      [ "$size_now" -gt 0 ] && [ "$size_now" = "$last" ] && break
      last=$size_now
    done
    node --max-old-space-size=8000 "$root/bench/heap-summary.mjs" "$dir"/*.heapsnapshot > "$dir/summary.json"
    snapshot=$(cat "$dir/summary.json")
    [ -n "${MEMORY_KEEP_SNAPSHOT:-}" ] || rm -f "$dir"/*.heapsnapshot # MEMORY_KEEP_SNAPSHOT=1 keeps it for DevTools
  fi
  stop_operator
  python3 - "$out/$name.json" <<PY
import json, sys
json.dump({
  "label": "$label", "size": $size, "phase": "$phase", "commit": "${MEMORY_COMMIT:-$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src || echo +dirty)}",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "loadavg": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "loadBefore": $load_before, "loadThreshold": $bench_max_load, "noisy": "$load_noisy" == "true", "nodeFlags": "$node_flags", "nodeOptions": "${NODE_OPTIONS:-}",
  "malloc": "$(env | grep '^MALLOC_' | sort | tr '\n' ' ')${MEMORY_PRELOAD:+LD_PRELOAD=$MEMORY_PRELOAD}",
  "secondsToSync": $synced, "secondsToSettle": $settled,
  "rssBytes": $rss, "peakRssBytes": $hwm, "restSeconds": ${MEMORY_REST_SECONDS:-60}, "rssAfterRestBytes": $rss_later, "heapUsedBytes": $heap_used, "heapTotalBytes": $heap_total,
  "externalBytes": $external, "mallocHeapBytes": $malloc_heap, "rssByMapping": json.loads('''$by_mapping'''), "snapshot": json.loads('''$snapshot'''),
}, open(sys.argv[1], "w"), indent=1)
PY
  say "$name: RSS $((rss / 1048576)) MiB (peak $((hwm / 1048576))), heap used $((heap_used / 1048576)) MiB, malloc $((malloc_heap / 1048576)) MiB, load $(cut -d' ' -f1 /proc/loadavg)"
}

for size in $sizes; do
  say "applying the $size-service mesh (deleted first, so no status is left)"
  "$tools/meshgen" --size "$size" --api weft > "$work/mesh-$size.json"
  # deletecollection per namespace: one call each (kubectl delete --all deletes one object per call, minutes here).
  for ns in $(kubectl get namespaces -o jsonpath='{.items[*].metadata.name}'); do
    for kind in virtualservices destinationrules serviceentries; do
      kubectl delete --raw "/apis/weft.dev/v1alpha1/namespaces/$ns/$kind" >/dev/null
    done
  done
  kubectl apply --server-side --force-conflicts -f "$work/mesh-$size.json" >/dev/null
  measure "$size" fresh
  measure "$size" restart
done
