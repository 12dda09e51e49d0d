#!/usr/bin/env bash
# Writes the local control plane's PKI into $1: a cluster CA, the API server's serving certificate, client
# certificates for each component, a front-proxy CA, and the service-account signing key pair.
set -euo pipefail
dir=$1; mkdir -p "$dir"; cd "$dir"
days=3650

ca() { # name subject
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days $days -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}
leaf() { # name ca subject extendedKeyUsage [subjectAltName]
  local name=$1 ca=$2 subj=$3 eku=$4 san=${5:-}
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -out "$name.crt" \
    -days $days -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

ca ca "/CN=weft-local-cluster-ca"
ca front-proxy-ca "/CN=weft-local-front-proxy-ca"
# 10.96.0.1 is the first address of the service range: in-cluster clients reach "kubernetes.default" there.
leaf apiserver ca "/CN=kube-apiserver" serverAuth \
  "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
leaf admin ca "/O=system:masters/CN=weft-admin" clientAuth
leaf controller-manager ca "/CN=system:kube-controller-manager" clientAuth
leaf scheduler ca "/CN=system:kube-scheduler" clientAuth
leaf front-proxy-client front-proxy-ca "/CN=front-proxy-client" clientAuth
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
chmod 600 ./*.key
