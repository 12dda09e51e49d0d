#!/usr/bin/env bash
# Two storms on one operator: cold (right after start) then warm (same process, clients reconnect).
set -euo pipefail
root=/work/main
. "$root/hack/cluster/lib.sh"; . "$root/bench/lib.sh"
cluster=$WEFT_CACHE/cluster-bench; kubeconfig=$cluster/admin.kubeconfig
apiserver_pid=$(awk '$1 == "kube-apiserver" {print $2}' "$cluster/pids")
tools=$("$root/bench/build-tools.sh")
n=${N:-2000}; out=${OUT:-/tmp/warm}
wait_for_quiet "warm"
port=$(free_port)
node --max-semi-space-size=8 --expose-gc ${PROF:-} "${DIR:-$root}/dist/main.js" operator --kubeconfig "$kubeconfig" --metrics-port 0 --xds-port "$port" > "$out/op.log" 2>&1 &
pid=$!
for s in 1 2 3; do
  [ $s = 1 ] || { sleep 5; wait_for_quiet "storm $s"; }
  "$tools/loadgen" --label "storm$s" --target "127.0.0.1:$port" --clients "$n" --mode proxyless --protocol sotw \
    --size 1000 --triggers 5 --storm-after 0s --server-pid "$pid" --kubeconfig "$kubeconfig" --api weft --apiserver-pid "$apiserver_pid" > "$out/storm$s.json" || true
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[1], "load %.2f storm %.2f s server CPU %.2f (in storm %s) loadgen %.2f push p50 %.0f p99 %.0f" % (r["Load"]["Before"] if "Load" in r else -1, r["Connect"]["Seconds"], r["Connect"]["ServerCPUSeconds"], r["Connect"]["InStorm"], r["Loadgen"]["ConnectCPUSeconds"], r["Push"]["Latency"]["P50"], r["Push"]["Latency"]["P99"]))' "$out/storm$s.json"
done
kill $pid; wait $pid 2>/dev/null || true
