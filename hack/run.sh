#!/usr/bin/env bash
# `make run`: a local cluster (unless KUBECONFIG names one), Weft installed from manifests/, the operator run on
# this host as its own ServiceAccount (so RBAC gaps show), the sample mesh applied and described, real traffic.
# It never hangs and never misleads: every wait is bounded, a dead operator is reported with its last log lines,
# and what it reports as Ready was judged by the operator it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/hack/cluster/lib.sh"
export PATH="$K8S_BIN:$PATH"

if [ -z "${KUBECONFIG:-}" ]; then
  KUBECONFIG=$("$root/hack/cluster/up.sh")
  export KUBECONFIG
fi

step() { printf '\n\033[1m--- %s\033[0m\n' "$*"; }
fail() { printf '\n\033[1;31mmake run failed: %s\033[0m\n' "$*" >&2; exit 1; }

# One operator per cluster: its pid file lives with the cluster it talks to (named after the API server's URL), so a
# second `make run` finds the first one whatever KUBECONFIG says.
server=$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.server}')
[ -n "$server" ] || fail "no cluster in KUBECONFIG=$KUBECONFIG"
run_dir=$WEFT_CACHE/run/$(printf '%s' "$server" | tr -c 'A-Za-z0-9._-' '_')
mkdir -p "$run_dir"
pid_file=$run_dir/operator.pid
log_file=$run_dir/operator.log

# Stops the operator an earlier `make run` left for this cluster (only if that pid is still a Weft operator).
stop_earlier() {
  [ -f "$pid_file" ] || return 0
  local pid; pid=$(cat "$pid_file")
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'dist/main.js operator'; then
    echo "stopping the operator an earlier make run started for this cluster (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

# The last lines of the operator's log, as a reason to stop.
operator_died() {
  echo "--- last lines of $log_file:" >&2
  tail -n 25 "$log_file" >&2 || true
  fail "$1"
}

step "kubectl apply -f manifests/"
kubectl apply -f "$root/manifests"
kubectl wait --for=condition=Established crd -l app.kubernetes.io/part-of=weft --timeout=60s >/dev/null

step "the operator, on this host, as ServiceAccount weft-system/weft-operator"
stop_earlier
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
metrics_port=$(free_port)
xds_port=$(free_port)
xds_debug_port=$(free_port)
ca_port=$(free_port)
# Every port is picked free (the CA's too: 15012 may be another operator's or Istio's). xDS on loopback (plaintext:
# this host only) so the demo client below can use it; the debug endpoint shows what each proxy holds.
setsid node "$root/dist/main.js" operator --leader-elect --identity "$(hostname)-make-run" \
  --metrics-port "$metrics_port" --xds-port "$xds_port" --xds-debug-port "$xds_debug_port" \
  --ca-port "$ca_port" --ca-host 127.0.0.1 \
  --kubeconfig "$operator_kubeconfig" ${WEFT_RUN_OPERATOR_ARGS:-} > "$log_file" 2>&1 < /dev/null &
operator_pid=$!
echo "$operator_pid" > "$pid_file"
# down.sh stops whatever is listed in its pids, so `make cluster-down` stops the operator of a local cluster too.
[ -f "$CLUSTER_DIR/pids" ] && [ "$KUBECONFIG" = "$ADMIN_KUBECONFIG" ] && echo "weft-operator $operator_pid" >> "$CLUSTER_DIR/pids"
echo "operator pid $operator_pid, logs $log_file, metrics http://127.0.0.1:$metrics_port/metrics"
echo "xDS 127.0.0.1:$xds_port, CA 127.0.0.1:$ca_port, debug http://127.0.0.1:$xds_debug_port/debug/syncz"

# Ready = its caches are synced; bounded, and a process that died is said at once.
ready=
for i in $(seq 1 120); do
  kill -0 "$operator_pid" 2>/dev/null || operator_died "the operator exited right after it started"
  if node -e "fetch('http://127.0.0.1:$metrics_port/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then ready=1; break; fi
  [ $((i % 20)) -eq 0 ] && echo "waiting for the operator to be ready ($((i / 4)) s)"
  sleep 0.25
done
[ -n "$ready" ] || operator_died "the operator was not ready after 30 s"

step "kubectl apply -f config/samples/ -f config/demo-pods/"
kubectl apply -f "$root/config/samples"
kubectl apply -f "$root/config/demo-pods"
# Judged by this operator: every sample's current generation Ready in status, and in what this operator serves.
node --no-warnings "$root/hack/demo/wait-ready.ts" weft-demo "$xds_debug_port" "$operator_pid" 90 \
  || operator_died "the samples did not become Ready under this operator (see above)"

step "kubectl get weft -n weft-demo"
kubectl get weft -n weft-demo
step "kubectl describe virtualservices.weft.dev reviews -n weft-demo"
kubectl describe virtualservices.weft.dev reviews -n weft-demo
step "traffic: a proxyless gRPC client (grpc-js-xds) calls reviews through the mesh"
node --no-warnings "$root/hack/demo/traffic.ts" "$xds_port" 100 \
  || { kill -0 "$operator_pid" 2>/dev/null || operator_died "the operator died during the traffic demo"; fail "the traffic demo failed (see above; operator log: $log_file)"; }
step "Kubernetes workloads: Service ratings, Pods of two Deployments, a 90/10 canary by their version label"
node --no-warnings "$root/hack/demo/pods.ts" "$xds_port" 200 \
  || { kill -0 "$operator_pid" 2>/dev/null || operator_died "the operator died during the Pod demo"; fail "the Pod demo failed (see above; operator log: $log_file)"; }
step "leader election"
kubectl get lease weft-operator-leader -n weft-system
echo
echo "Weft is running. Try: export KUBECONFIG=$KUBECONFIG; kubectl get weft -A"
echo "Weft's kinds by full name when Istio's are installed too: kubectl get virtualservices.weft.dev (short: wvs, wdr, wgw, wse, wwe, wmp)"
echo "Stop the operator: kill \$(cat $pid_file)   Stop the local cluster: make cluster-down"
