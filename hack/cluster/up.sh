#!/usr/bin/env bash
# Starts a local Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver (TLS, RBAC, service-account
# tokens), kube-controller-manager, kube-scheduler and kwok with fake Nodes. Builds the binaries first if the
# cache lacks them. Prints the admin kubeconfig's path when the cluster is ready.
#   WEFT_CLUSTER_DIR  where state, logs and the kubeconfig go (default ~/.cache/weft/cluster)
#   WEFT_KWOK_NODES   how many fake Nodes to create (default 2)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$HACK_CLUSTER_DIR/build.sh"
export PATH="$K8S_BIN:$PATH"

if [ -f "$CLUSTER_DIR/pids" ] && kubectl --kubeconfig "$ADMIN_KUBECONFIG" get --raw /readyz >/dev/null 2>&1; then
  log "already running; kubeconfig: $ADMIN_KUBECONFIG"; echo "$ADMIN_KUBECONFIG"; exit 0
fi
"$HACK_CLUSTER_DIR/down.sh" >/dev/null 2>&1 || true
mkdir -p "$CLUSTER_DIR/logs"
pki=$CLUSTER_DIR/pki
started_ms=$(( $(date +%s%N) / 1000000 ))
"$HACK_CLUSTER_DIR/pki.sh" "$pki"

api_port=$(free_port); etcd_port=$(free_port); etcd_peer_port=$(free_port)
kcm_port=$(free_port); sched_port=$(free_port); kwok_port=$(free_port)
server=https://127.0.0.1:$api_port

kubeconfig() { # file user cert
  KUBECONFIG=$1 kubectl config set-cluster weft-local --server="$server" --certificate-authority="$pki/ca.crt" --embed-certs >/dev/null
  KUBECONFIG=$1 kubectl config set-credentials "$2" --client-certificate="$pki/$3.crt" --client-key="$pki/$3.key" --embed-certs >/dev/null
  KUBECONFIG=$1 kubectl config set-context weft-local --cluster=weft-local --user="$2" >/dev/null
  KUBECONFIG=$1 kubectl config use-context weft-local >/dev/null
}
rm -f "$CLUSTER_DIR"/*.kubeconfig
kubeconfig "$ADMIN_KUBECONFIG" weft-admin admin
kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" system:kube-scheduler scheduler

: > "$CLUSTER_DIR/pids"
run() { # name command...
  local name=$1; shift
  # setsid: each component leads its own process group, so down.sh can stop it and nothing it spawned survives.
  setsid "$@" > "$CLUSTER_DIR/logs/$name.log" 2>&1 < /dev/null &
  echo "$name $!" >> "$CLUSTER_DIR/pids"
}
wait_for() { # what seconds command...
  local what=$1 secs=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out waiting for $what; logs in $CLUSTER_DIR/logs"; tail -n 30 "$CLUSTER_DIR"/logs/*.log >&2; exit 1
    fi
    sleep 0.2
  done
  local ms=$(( $(date +%s%N) / 1000000 - started_ms ))
  log "$what ($(( ms / 1000 )).$(( ms % 1000 / 100 )) s after start)"
}

run etcd "$ETCD_BIN/etcd" --name weft-local --data-dir "$CLUSTER_DIR/etcd" --unsafe-no-fsync \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "weft-local=http://127.0.0.1:$etcd_peer_port" --listen-metrics-urls "" --log-level warn

run kube-apiserver kube-apiserver --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --authorization-mode Node,RBAC --allow-privileged=true \
  --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
  --requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key"
wait_for "API server /readyz ok at $server" 60 kubectl --kubeconfig "$ADMIN_KUBECONFIG" get --raw /readyz

kcm_kubeconfig=$CLUSTER_DIR/controller-manager.kubeconfig
# The node-lifecycle controller must run: it lifts the not-ready taint from kwok's Nodes once they report Ready.
run kube-controller-manager kube-controller-manager --kubeconfig "$kcm_kubeconfig" \
  --authentication-kubeconfig "$kcm_kubeconfig" --authorization-kubeconfig "$kcm_kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$kcm_port" --leader-elect=false \
  --controllers '*,-nodeipam' --use-service-account-credentials \
  --root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/sa.key" \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
  --service-cluster-ip-range 10.96.0.0/16
sched_kubeconfig=$CLUSTER_DIR/scheduler.kubeconfig
run kube-scheduler kube-scheduler --kubeconfig "$sched_kubeconfig" \
  --authentication-kubeconfig "$sched_kubeconfig" --authorization-kubeconfig "$sched_kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$sched_port" --leader-elect=false
# The heartbeat stage renews Node status only every 10-20 min and relies on Node Leases for liveness: without
# --node-lease-duration-seconds kwok keeps no Leases, the node-lifecycle controller marks the Nodes NotReady
# every ~50 s, and their pods lose Ready (kwok never restores it), so Deployments flap out of Available.
run kwok "$KWOK_BIN/kwok" --kubeconfig "$ADMIN_KUBECONFIG" --config "$KWOK_BIN/stages.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds 40 \
  --cidr 10.244.0.0/16 --server-address "127.0.0.1:$kwok_port"

for i in $(seq 1 "${WEFT_KWOK_NODES:-2}"); do
  cat <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
---
NODE
done | kubectl --kubeconfig "$ADMIN_KUBECONFIG" apply -f - >/dev/null

nodes_ready() { [ "$(kubectl --kubeconfig "$ADMIN_KUBECONFIG" get nodes -l type=kwok -o jsonpath='{range .items[*]}{.spec.taints}{end}')" = "" ] &&
  kubectl --kubeconfig "$ADMIN_KUBECONFIG" wait --for=condition=Ready nodes -l type=kwok --timeout=1s; }
wait_for "kwok Nodes Ready and untainted" 60 nodes_ready
wait_for "default ServiceAccount exists" 60 kubectl --kubeconfig "$ADMIN_KUBECONFIG" get serviceaccount default -n default
cat > "$CLUSTER_DIR/cluster.env" <<ENV
KUBECONFIG=$ADMIN_KUBECONFIG
API_SERVER=$server
ENV
log "ready: export KUBECONFIG=$ADMIN_KUBECONFIG"
echo "$ADMIN_KUBECONFIG"
