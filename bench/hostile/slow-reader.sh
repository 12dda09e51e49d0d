#!/usr/bin/env bash
# A client that never reads, against 500 honest ones (issue #14): Weft's operator serves a 1000-service mesh to 500
# proxyless clients (bench/loadgen) while one Envoy-style client (slow-reader.mjs) subscribes to the whole outbound
# route table and never reads. Each VirtualService change pushes ~300 KB to it; the server must cut it off at the
# pending-bytes cap (32 MiB by default) with its RSS bounded, and the others' push latency must not suffer. Every
# pair runs the same case without the slow client too, interleaved, on a quiet machine (load average recorded).
# Results: docs/bench/hostile/*.json and the slow-reader section of docs/security.md.
#
#   bench/hostile/slow-reader.sh                       # 1000 services, 500 clients, 1000 pushes, 1 pair
#   HOSTILE_PAIRS=3 HOSTILE_TRIGGERS=300 bench/hostile/slow-reader.sh
#   HOSTILE_SIZE=20 HOSTILE_CLIENTS=10 HOSTILE_TRIGGERS=3 HOSTILE_OUT=/tmp/h HOSTILE_DOC=/tmp/h.md bench/hostile/slow-reader.sh  # a trial
# Each case waits at the quiet-machine gate of bench/lib.sh (HOSTILE_MAX_LOAD, else BENCH_MAX_LOAD; BENCH_QUIET_TIMEOUT).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/hack/cluster/lib.sh"
. "$root/bench/lib.sh"
export PATH="$K8S_BIN:$PATH"
size=${HOSTILE_SIZE:-1000}; clients=${HOSTILE_CLIENTS:-500}; triggers=${HOSTILE_TRIGGERS:-1000}; pairs=${HOSTILE_PAIRS:-1}
bench_max_load=${HOSTILE_MAX_LOAD:-$bench_max_load}; max_load=$bench_max_load # the gate of bench/lib.sh
# Quiet time after each push before the next: the load generator's default (1 s, for CPU per push) would make 1000
# pushes take 20 minutes; latency is measured the same either way.
settle=${HOSTILE_SETTLE:-200ms}
out=${HOSTILE_OUT:-$root/docs/bench/hostile}; doc=${HOSTILE_DOC:-$root/docs/security.md}; work=$WEFT_CACHE/hostile-bench; mkdir -p "$out" "$work"
say() { printf '[hostile-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

tools=$("$root/bench/build-tools.sh")
(cd "$root" && make --no-print-directory build >/dev/null)
node_flags=$("$root/bench/operator-node-options.sh") # as the Deployment runs it
export WEFT_CLUSTER_DIR=$WEFT_CACHE/cluster-hostile-bench
kubeconfig=$("$root/hack/cluster/up.sh")
server_pid=0; slow_pid=0; sampler_pid=0
cleanup() {
  for p in $server_pid $slow_pid $sampler_pid; do [ "$p" = 0 ] || kill "$p" 2>/dev/null || true; done
  [ -n "${HOSTILE_KEEP_CLUSTER:-}" ] || "$root/hack/cluster/down.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT
apiserver_pid=$(awk '$1 == "kube-apiserver" {print $2}' "$WEFT_CLUSTER_DIR/pids")
install_weft_crds "$kubeconfig"
say "applying the $size-service mesh"
apply_bench_mesh "$kubeconfig" "$size" "$work/mesh.json"

rm -f "$out"/*.json
for pair in $(seq "$pairs"); do
  for variant in without with; do
    name=pair${pair}_${variant}_slow_reader
    wait_for_quiet "$name" # bench/lib.sh: sets load_before
    port=$(free_port)
    node $node_flags "$root/dist/main.js" operator --kubeconfig "$kubeconfig" --metrics-port 0 --xds-port "$port" > "$work/$name.log" 2>&1 &
    server_pid=$!
    # RSS every 250 ms (VmHWM alone would include start-up).
    (while kill -0 "$server_pid" 2>/dev/null; do echo "$(date +%s.%N) $(kb "$server_pid" VmRSS)"; sleep 0.25; done) > "$work/$name.rss" 2>/dev/null &
    sampler_pid=$!
    if [ "$variant" = with ]; then
      # It connects once the server has config (the load generator's probe waits for that too).
      (sleep 20; exec node "$root/bench/hostile/slow-reader.mjs" "$port") > "$work/$name.slow" 2>&1 &
      slow_pid=$!
    fi
    say "$name: $clients clients, $size services, $triggers pushes (load $load_before)"
    if "$tools/loadgen" --label weft --target "127.0.0.1:$port" --clients "$clients" --mode proxyless --protocol sotw \
         --size "$size" --triggers "$triggers" --server-pid "$server_pid" --kubeconfig "$kubeconfig" --api weft \
         --apiserver-pid "$apiserver_pid" --settle "$settle" > "$work/$name.loadgen.json" 2> "$work/$name.err"; then
      say "$name: done"
    else
      say "$name: FAILED: $(tail -n 1 "$work/$name.err")"
    fi
    load_after=$(load1)
    kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=0
    [ "$slow_pid" = 0 ] || { kill "$slow_pid" 2>/dev/null || true; wait "$slow_pid" 2>/dev/null || true; slow_pid=0; }
    kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=0
    python3 - "$work/$name" "$out/$name.json" "$variant" "$load_before" "$load_after" "$max_load" "$(weft_commit)" <<'EOF'
import json, sys
base, dest, variant, before, after, max_load, rev = sys.argv[1:8]
result = json.load(open(base + '.loadgen.json'))
rss = [(float(t), int(k)) for t, k in (line.split() for line in open(base + '.rss') if len(line.split()) == 2)]
slow = None
pushes = result.get('Pushes') or []
start = pushes[0]['StartedUnixMs'] / 1000 if pushes else 0
if variant == 'with':
    events = [json.loads(l) for l in open(base + '.slow') if l.startswith('{')]
    slow = next((e for e in events if e.get('event') == 'ended'), {'event': 'still open at the end'})
    # The server's own record of the cut-off: when, with how many bytes unread, after how many of the pushes.
    for line in open(base + '.log'):
        if 'xDS client not reading' in line:
            entry = json.loads(line)
            slow['cutOff'] = {'pendingBytes': entry.get('pendingBytes'), 'afterPushes': sum(1 for p in pushes if p['StartedUnixMs'] <= entry['time'])}
            break
json.dump({
    'variant': variant, 'commit': rev, 'loadBefore': float(before), 'loadAfter': float(after),
    'quiet': float(before) < float(max_load),
    'clients': result['Clients'], 'services': result['Size'], 'pushes': len(pushes),
    'pushLatencyMs': result['Push']['Latency'],
    'serverRssMaxMB': max(k for _, k in rss) / 1024 if rss else None,
    'serverRssDuringPushesMaxMB': max((k for t, k in rss if t >= start), default=0) / 1024,
    'serverRssEndMB': result['Server']['RSSEnd'] / 2**20,
    'slowReader': slow, 'error': result.get('Error'),
}, open(dest, 'w'), indent=1)
EOF
  done
done

# The table, between the slow-reader markers of docs/security.md, generated from the JSON.
python3 - "$out" "$doc" "$(nproc)" <<'EOF'
import glob, json, os, sys, datetime
out, doc, cpus = sys.argv[1:4]
runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, '*.json')))]
rows = []
for r in runs:
    s = r['slowReader']
    cut = '—' if s is None else (f"cut off after push {s['cutOff']['afterPushes']}, {s['cutOff']['pendingBytes'] / 2**20:.1f} MiB unread" if 'cutOff' in s else 'not cut off')
    p = r['pushLatencyMs']
    rows.append(f"| {r['variant']} | {r['pushes']} | {p['P50']:.0f} | {p['P99']:.0f} | {p['Max']:.0f} | {r['serverRssDuringPushesMaxMB']:.0f} | {r['serverRssEndMB']:.0f} | {cut} | {r['loadBefore']:.2f} / {r['loadAfter']:.2f}{'' if r['quiet'] else ' (not quiet)'} | {r['commit']} |")
def median(xs):
    xs = sorted(xs); return xs[len(xs) // 2] if xs else float('nan')
p99 = {v: median([r['pushLatencyMs']['P99'] for r in runs if r['variant'] == v]) for v in ('without', 'with')}
first = runs[0] if runs else {'clients': 0, 'services': 0}
section = "\n".join([
    "<!-- slow-reader -->",
    f"`bench/hostile/slow-reader.sh` ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {cpus} CPUs shared with the API "
    f"server and the load generator): {first['clients']} proxyless clients (bench/loadgen) and {first['services']} services; each push is a "
    "VirtualService weight PATCH through the API server, timed until every client holds it. \"with\": one more client, "
    "an Envoy-style stream subscribed to the whole outbound route table (~300 KB a push), that never reads. Runs are "
    "interleaved pairs; load average before / after each. Raw results: docs/bench/hostile/.",
    "",
    "| slow reader | pushes | push p50 (ms) | push p99 (ms) | push max (ms) | server RSS max during pushes (MB) | server RSS at end (MB) | the slow reader's stream | load | commit |",
    "|---|--:|--:|--:|--:|--:|--:|---|---|---|",
    *rows,
    "",
    f"Median push p99: {p99['without']:.0f} ms without, {p99['with']:.0f} ms with the slow reader ({(p99['with'] / p99['without'] - 1) * 100:+.0f}%).",
    "<!-- /slow-reader -->",
])
text = open(doc).read()
start, end = text.find("<!-- slow-reader -->"), text.find("<!-- /slow-reader -->")
if start >= 0 and end > start:
    text = text[:start] + section + text[end + len("<!-- /slow-reader -->"):]
else:
    text = text.rstrip() + "\n\n## A client that never reads (benchmark)\n\n" + section + "\n"
open(doc, "w").write(text)
print(section)
EOF
