#!/usr/bin/env bash
# xDS fan-out of Weft alone: N simulated ADS clients (bench/loadgen: grpc-go, one connection and one stream each,
# proxyless, following LDS -> RDS -> CDS -> EDS) against `weft operator --xds-port`, one VirtualService weight
# change at a time through the API server; connect storm, time until every client has the change (p50/p99/max),
# server RSS per client. Results: docs/bench/xds/*.json and the xds-fanout section of docs/benchmarks.md.
#
#   bench/xds-fanout.sh            # 200 services; 100, 500, 1000 clients; SotW and delta
#   XDS_BENCH_CLIENTS="100 2000" XDS_BENCH_PROTOCOLS=sotw XDS_BENCH_SIZE=1000 bench/xds-fanout.sh
#   XDS_BENCH_REPORT_ONLY=1 bench/xds-fanout.sh   # only rewrites the section from the JSON
#
# XDS_BENCH_OUT and XDS_BENCH_DOC send the JSON and the table elsewhere (trial runs). Each case waits at the
# quiet-machine gate of bench/lib.sh (BENCH_MAX_LOAD, BENCH_QUIET_TIMEOUT).
# Its own local control plane (cluster-xds-bench) and work folder, so it never collides with bench/run.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/hack/cluster/lib.sh"
. "$root/bench/lib.sh"
export PATH="$K8S_BIN:$PATH"
size=${XDS_BENCH_SIZE:-200}; clients=${XDS_BENCH_CLIENTS:-100 500 1000}; protocols=${XDS_BENCH_PROTOCOLS:-sotw delta}
triggers=${XDS_BENCH_TRIGGERS:-5}
out=${XDS_BENCH_OUT:-$root/docs/bench/xds}; doc=${XDS_BENCH_DOC:-$root/docs/benchmarks.md}
work=$WEFT_CACHE/xds-bench; mkdir -p "$out" "$work"
say() { printf '[xds-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The table, between the xds-fanout markers of docs/benchmarks.md (the rest of the file is bench/run.sh's).
write_report() {
python3 - "$out" "$doc" "$(nproc)" "$bench_max_load" <<'EOF'
import glob, json, os, sys
out, doc, cpus, max_load = sys.argv[1:5]
rows = []
results = sorted((json.load(open(f)) for f in glob.glob(os.path.join(out, '*.json'))), key=lambda r: (r['Protocol'], r['Clients']))
sizes = ", ".join(sorted({str(r['Size']) for r in results}))
started = sorted(r['Started'][:16].replace('T', ' ') for r in results) or ['(no results)']
for r in results:
    p = r['Push']['Latency']; load = r.get('Load')
    load = f"{load['Before']:.1f} → {load['After']:.1f}{' (noisy)' if load['Noisy'] else ''}" if load else "not recorded"
    rows.append(f"| {r['Protocol']} | {r['Clients']} | {r['Connect']['Seconds']:.2f} | {p['P50']:.0f} | {p['P99']:.0f} | {p['Max']:.0f} "
                f"| {r['Push']['ServerCPUSeconds']*1000:.0f} | {r['Server']['RSSPerClient']/1024:.0f} | {r['Server']['RSSConnected']/2**20:.0f} "
                f"| {load} | {r.get('WeftCommit', 'not recorded')} |")
section = "\n".join([
    "<!-- xds-fanout -->",
    f"Weft alone, `make bench-xds` ({started[0]} to {started[-1]} UTC, {sizes} services, "
    f"{cpus} CPUs shared with the API server and the load generator): proxyless clients, each watching 10 services; a push is a "
    "VirtualService weight PATCH through the API server until every client holds the new route. Reproduce: `make bench-xds` "
    "(XDS_BENCH_CLIENTS, XDS_BENCH_PROTOCOLS, XDS_BENCH_SIZE, XDS_BENCH_TRIGGERS; raw results in docs/bench/xds/). "
    + (f"One run per case, each after the quiet-machine gate (1-minute load average below {max_load}, else run anyway "
     "and marked noisy); the load before and after each case and the Weft commit are in its row. "
     if all(r.get('Load') for r in results) else
     "These results predate the quiet-machine gate: one run per case, the load around it not recorded. ") +
    "The side-by-side comparison with istiod and go-control-plane, repeated and interleaved, is the `make bench` section above.",
    "",
    "| protocol | clients | connect storm (s) | push p50 (ms) | push p99 (ms) | push max (ms) | server CPU / push (ms) | server RSS / client (KB) | server RSS (MB) | load before → after | Weft commit |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    *rows,
    "<!-- /xds-fanout -->",
])
text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
start, end = text.find("<!-- xds-fanout -->"), text.find("<!-- /xds-fanout -->")
if start >= 0 and end > start:
    text = text[:start] + section + text[end + len("<!-- /xds-fanout -->"):]
else:
    text = text.rstrip() + "\n\n## xDS fan-out, Weft alone\n\n" + section + "\n"
open(doc, "w").write(text)
print(section)
EOF
}
[ -z "${XDS_BENCH_REPORT_ONLY:-}" ] || { write_report; exit 0; }

tools=$("$root/bench/build-tools.sh")
(cd "$root" && make --no-print-directory build >/dev/null)
node_flags=$("$root/bench/operator-node-options.sh") # as the Deployment runs it
export WEFT_CLUSTER_DIR=$WEFT_CACHE/cluster-xds-bench
kubeconfig=$("$root/hack/cluster/up.sh")
server_pid=0
cleanup() {
  [ "$server_pid" = 0 ] || kill "$server_pid" 2>/dev/null || true
  [ -n "${XDS_BENCH_KEEP_CLUSTER:-}" ] || "$root/hack/cluster/down.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT
apiserver_pid=$(awk '$1 == "kube-apiserver" {print $2}' "$WEFT_CLUSTER_DIR/pids")
install_weft_crds "$kubeconfig"
say "applying the $size-service mesh"
apply_bench_mesh "$kubeconfig" "$size" "$work/mesh.json"

rm -f "$out"/*.json
for protocol in $protocols; do
  for n in $clients; do
    name=weft_proxyless_${protocol}_n${n}
    wait_for_quiet "$name" # bench/lib.sh: a quiet machine first, the load around the case into its JSON
    port=$(free_port)
    node $node_flags "$root/dist/main.js" operator --kubeconfig "$kubeconfig" --metrics-port 0 --xds-port "$port" > "$work/$name.log" 2>&1 &
    server_pid=$!
    say "$name: $n clients, $size services"
    if "$tools/loadgen" --label weft --target "127.0.0.1:$port" --clients "$n" --mode proxyless --protocol "$protocol" \
         --size "$size" --triggers "$triggers" --server-pid "$server_pid" --kubeconfig "$kubeconfig" --api weft \
         --apiserver-pid "$apiserver_pid" > "$out/$name.json" 2> "$work/$name.err"; then
      say "$name: done"
    else
      say "$name: FAILED: $(tail -n 1 "$work/$name.err")"; rm -f "$out/$name.json"
    fi
    kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=0
    [ ! -f "$out/$name.json" ] || annotate_result "$out/$name.json"
  done
done
write_report
