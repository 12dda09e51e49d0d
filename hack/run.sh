#!/usr/bin/env bash
# `make run`: a local cluster (unless KUBECONFIG names one), Weft installed from manifests/, the operator run on
# this host as its own ServiceAccount (so RBAC gaps show), the sample mesh applied and described.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/hack/cluster/lib.sh"
export PATH="$K8S_BIN:$PATH"

if [ -z "${KUBECONFIG:-}" ]; then
  KUBECONFIG=$("$root/hack/cluster/up.sh")
  export KUBECONFIG
  run_dir=$CLUSTER_DIR
else
  run_dir=$WEFT_CACHE/run
fi
mkdir -p "$run_dir"

step() { printf '\n\033[1m--- %s\033[0m\n' "$*"; }

step "kubectl apply -f manifests/"
kubectl apply -f "$root/manifests"
kubectl wait --for=condition=Established crd -l app.kubernetes.io/part-of=weft --timeout=60s >/dev/null

step "the operator, on this host, as ServiceAccount weft-system/weft-operator"
server=$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.server}')
ca=$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
token=$(kubectl create token weft-operator -n weft-system --duration=24h)
operator_kubeconfig=$run_dir/operator.kubeconfig
cat > "$operator_kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: weft, cluster: {server: "$server", certificate-authority-data: "$ca"}}]
users: [{name: weft-operator, user: {token: "$token"}}]
contexts: [{name: weft-operator, context: {cluster: weft, user: weft-operator}}]
current-context: weft-operator
KUBECONFIG
chmod 600 "$operator_kubeconfig"
if [ -f "$run_dir/operator.pid" ]; then kill "$(cat "$run_dir/operator.pid")" 2>/dev/null || true; fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
metrics_port=$(free_port)
xds_port=$(free_port)
xds_debug_port=$(free_port)
# xDS on loopback (plaintext: this host only) so the demo client below can use it; the debug endpoint shows what
# each proxy holds.
setsid node "$root/dist/main.js" operator --leader-elect --identity "$(hostname)-make-run" \
  --metrics-port "$metrics_port" --xds-port "$xds_port" --xds-debug-port "$xds_debug_port" \
  --kubeconfig "$operator_kubeconfig" > "$run_dir/operator.log" 2>&1 < /dev/null &
echo $! > "$run_dir/operator.pid"
# down.sh stops whatever is listed in pids, so `make cluster-down` stops the operator too.
[ -f "$run_dir/pids" ] && echo "weft-operator $!" >> "$run_dir/pids"
echo "operator pid $!, logs $run_dir/operator.log, metrics http://127.0.0.1:$metrics_port/metrics"
echo "xDS 127.0.0.1:$xds_port, debug http://127.0.0.1:$xds_debug_port/debug/syncz"

step "kubectl apply -f config/samples/"
kubectl apply -f "$root/config/samples"
for kind in serviceentries workloadentries destinationrules gateways virtualservices meshpolicies; do
  kubectl wait --for=condition=Ready "$kind" --all -n weft-demo --timeout=60s >/dev/null
done

step "kubectl get weft -n weft-demo"
kubectl get weft -n weft-demo
step "kubectl describe virtualservice reviews -n weft-demo"
kubectl describe virtualservice reviews -n weft-demo
step "traffic: a proxyless gRPC client (grpc-js-xds) calls reviews through the mesh"
node --no-warnings "$root/hack/demo/traffic.ts" "$xds_port" 100
step "leader election"
kubectl get lease weft-operator-leader -n weft-system
echo
echo "Weft is running. Try: export KUBECONFIG=$KUBECONFIG; kubectl get weft -A"
echo "Stop the operator: kill \$(cat $run_dir/operator.pid)   Stop the local cluster: make cluster-down"
