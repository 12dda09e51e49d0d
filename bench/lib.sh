# Sourced by the Weft-only benchmarks (bench/xds-fanout.sh, bench/hostile/slow-reader.sh, bench/memory.sh), after
# hack/cluster/lib.sh: the weft.dev CRDs and bench/meshgen's synthetic mesh on a cluster.

# install_weft_crds <kubeconfig>: the CRDs from manifests/, established.
install_weft_crds() {
  local crd
  for crd in "$root"/manifests/weft.dev_*.yaml; do kubectl --kubeconfig "$1" apply --server-side --force-conflicts -f "$crd" >/dev/null; done
  kubectl --kubeconfig "$1" wait --for=condition=Established crd -l app.kubernetes.io/part-of=weft --timeout=120s >/dev/null
}

# apply_bench_mesh <kubeconfig> <services> <file>: meshgen's mesh of that many services, written to the file and applied.
apply_bench_mesh() {
  "$tools/meshgen" --size "$2" --api weft > "$3"
  kubectl --kubeconfig "$1" apply --server-side --force-conflicts -f "$3" >/dev/null
}
