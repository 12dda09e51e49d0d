#!/usr/bin/env bash
# Where a connect storm's CPU goes by thread: the operator's main thread against V8's worker threads (parallel
# scavenges, concurrent marking, the optimizing compilers) and libuv's, from each thread's user+system time in
# /proc/<pid>/task, read every 0.25 s by one sampler process; and how many full collections (mark-compacts) ran in
# the storm, from --trace-gc. One storm of STORM_CLIENTS (2000) proxyless SotW clients, 15 s after the server is ready.
#
#   bench/storm-threads.sh <out dir> <label> [<checkout>|floor] [node flags...]
#
# <checkout> (default: this one) is a Weft checkout with dist/ built; `floor` runs bench/grpcjs-floor.ts instead.
# The node flags replace the operator's (those manifests/ give its Deployment). Needs the cluster a full benchmark
# run leaves running with BENCH_KEEP_CLUSTER=1, like bench/compare.sh. Writes <label>_r<n>.json (the load
# generator's, with Threads and MarkCompactsInStorm added) and <label>_r<n>.log, and prints a line per run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/hack/cluster/lib.sh"
. "$root/bench/lib.sh"
out=${1:?usage: bench/storm-threads.sh <out dir> <label> [<checkout>|floor] [node flags...]}; label=${2:?label}
dir=${3:-$root}; shift $(( $# < 3 ? $# : 3 ))
cluster=$WEFT_CACHE/cluster-bench; kubeconfig=$cluster/admin.kubeconfig
[ -f "$cluster/pids" ] || { echo "no benchmark cluster in $cluster (see bench/compare.sh)" >&2; exit 2; }
tools=$("$root/bench/build-tools.sh")
flags=("$@"); [ $# -gt 0 ] || read -r -a flags <<< "$("$root/bench/operator-node-options.sh")"
mkdir -p "$out"
n=1; while [ -e "$out/${label}_r$n.json" ]; do n=$((n + 1)); done
file=$out/${label}_r$n.json
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for_quiet "$label run $n" # bench/lib.sh
port=$(free_port)
if [ "$dir" = floor ]; then
  mesh=$(mktemp -d)/mesh.json; "$tools/gcp-server" --size 1000 --flavor proxyless --dump "$mesh"
  admin=$(free_port)
  node "${flags[@]}" --trace-gc --experimental-transform-types --no-warnings "$root/bench/grpcjs-floor.ts" --dump "$mesh" \
    --xds "127.0.0.1:$port" --admin "127.0.0.1:$admin" > "${file%.json}.log" 2>&1 &
  pid=$!; trigger=(--trigger-url "http://127.0.0.1:$admin/weight")
else
  node "${flags[@]}" --trace-gc "$dir/dist/main.js" operator --kubeconfig "$kubeconfig" --metrics-port 0 --xds-port "$port" \
    > "${file%.json}.log" 2>&1 &
  pid=$!; trigger=(--kubeconfig "$kubeconfig" --api weft --apiserver-pid "$(awk '$1 == "kube-apiserver" {print $2}' "$cluster/pids")")
fi
samples=$(mktemp)
# One process reads every thread's times every 0.25 s (a process per read would cost the machine more than it measures).
python3 - "$pid" "$samples" <<'PY' &
import os, sys, time
pid, path = sys.argv[1], sys.argv[2]
with open(path, "w") as out:
    while os.path.exists(f"/proc/{pid}"):
        now = time.time()
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                try:
                    stat = open(f"/proc/{pid}/task/{tid}/stat").read()
                    name = open(f"/proc/{pid}/task/{tid}/comm").read().strip().replace(" ", "_")
                except OSError:
                    continue
                fields = stat[stat.rindex(")") + 2:].split()
                out.write(f"{now} {tid} {name} {int(fields[11]) + int(fields[12])}\n")
        except OSError:
            break
        out.flush()
        time.sleep(0.25)
PY
sampler=$!
started=$(python3 -c 'import time; print(time.time())')
"$tools/loadgen" --label "$label" --target "127.0.0.1:$port" --clients "${STORM_CLIENTS:-2000}" --mode proxyless --protocol sotw \
  --size 1000 --triggers 3 --storm-after 15s --server-pid "$pid" "${trigger[@]}" > "$file" || true
kill "$pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
annotate_result "$file" "$([ "$dir" = floor ] && echo "$root" || echo "$dir")"
python3 - "$file" "$samples" "$started" "${file%.json}.log" <<'PY'
import json, re, sys
from collections import Counter
path, samples, started, log = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
r = json.load(open(path))
t0 = started + r["Ready"]["Seconds"] + r.get("StormAfterSeconds", 0)
t1 = t0 + r["Connect"]["Seconds"]
hz = 100  # USER_HZ: /proc times are in clock ticks
def at(t):
    seen = {}
    for line in open(samples):
        ts, tid, name, ticks = line.split()
        if float(ts) <= t:
            seen[tid] = (name, int(ticks))
    return seen
a, b = at(t0), at(t1)
threads = Counter()
for tid, (name, ticks) in b.items():
    # V8's and libuv's workers by kind, not one by one
    kind = "V8 workers" if name.startswith("V8") else "libuv workers" if name.startswith("libuv") else "main thread" if name in ("node", "MainThread") else name
    threads[kind] += (ticks - a.get(tid, (name, 0))[1]) / hz
# --trace-gc lines carry the milliseconds since the process started, which is within a second of `started`.
ms0, ms1 = (t0 - started) * 1000, (t1 - started) * 1000
mcs = sum(1 for line in open(log) if "Mark-Compact" in line and ms0 <= float(re.search(r"\]\s+(\d+) ms:", line).group(1)) <= ms1)
r["Threads"] = {k: round(v, 2) for k, v in threads.most_common() if v > 0}
r["MarkCompactsInStorm"] = mcs
json.dump(r, open(path, "w"), indent=2)
print(f"{r['Label']}: storm {r['Connect']['Seconds']:.2f} s, server CPU {r['Connect']['ServerCPUSeconds']:.2f} s, "
      + ", ".join(f"{k} {v:.2f} s" for k, v in r["Threads"].items()) + f"; {mcs} mark-compacts in the storm; load before {r['Load']['Before']:.2f}")
PY
rm -f "$samples"
