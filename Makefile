# Weft's two commands are `make run` and `make test`; everything they need is set up from here.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

include hack/cluster/versions.env
WEFT_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/weft
export WEFT_CACHE
K8S_BIN := $(WEFT_CACHE)/k8s-$(K8S_VERSION)/bin
# The pinned Node (fetched once if the machine's is too old), the built kubectl, and local tools come first.
NODE_BIN := $(shell hack/ensure-node.sh)
export PATH := $(NODE_BIN):$(K8S_BIN):$(CURDIR)/node_modules/.bin:$(PATH)

CLUSTER_DIR ?= $(WEFT_CACHE)/cluster
LOCAL_KUBECONFIG := $(CLUSTER_DIR)/admin.kubeconfig
JEST := node --experimental-vm-modules node_modules/jest/bin/jest.js

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## install npm dependencies

.PHONY: build
build: deps ## compile TypeScript to dist/, bundle dist/main.js (what every weft process runs), build dist/native/
	tsc -p tsconfig.build.json
	node hack/bundle.ts
	hack/build-native.sh

.PHONY: typecheck
typecheck: deps ## type-check sources and tests
	tsc -p tsconfig.json --noEmit

.PHONY: manifests
manifests: deps ## regenerate manifests/ (CRDs from src/api, operator install from src/install)
	node src/install/generate-manifests.ts

.PHONY: test
test: typecheck test-unit test-e2e ## all tests: type check, unit, e2e (starts a local cluster unless KUBECONFIG is set)

.PHONY: test-unit
test-unit: deps ## unit tests (and the benchmark report's Go tests)
	$(JEST) --selectProjects unit --passWithNoTests
	cd bench && GOTOOLCHAIN=local GOWORK=off go test ./report

.PHONY: test-e2e
test-e2e: build ## e2e tests against KUBECONFIG, or a local control plane started and stopped for the run
	WEFT_PYTHON=$$(hack/ensure-python-grpc.sh) $(JEST) --selectProjects e2e --runInBand

.PHONY: cluster-binaries
cluster-binaries: ## build (once) etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok
	hack/cluster/build.sh

.PHONY: cluster
cluster: ## start the local control plane; its admin kubeconfig is $(LOCAL_KUBECONFIG)
	WEFT_CLUSTER_DIR=$(CLUSTER_DIR) hack/cluster/up.sh

.PHONY: cluster-down
cluster-down: ## stop the local control plane and delete its state
	WEFT_CLUSTER_DIR=$(CLUSTER_DIR) hack/cluster/down.sh

.PHONY: run
run: build ## local cluster (unless KUBECONFIG is set), install Weft, run the operator, apply and describe the samples
	hack/run.sh

.PHONY: image
image: build ## the operator image as an OCI archive (build/weft-image.oci.tar), daemonless and reproducible
	hack/image/build.sh

.PHONY: e2e-kind
e2e-kind: image ## the e2e suite on a kind cluster (needs Docker and kind), with the operator image loaded into it
	kind create cluster --name weft-e2e --config kind-config.yaml --kubeconfig $(CURDIR)/.kind.kubeconfig
	kind load image-archive build/weft-image.oci.tar --name weft-e2e
	KUBECONFIG=$(CURDIR)/.kind.kubeconfig WEFT_PYTHON=$$(hack/ensure-python-grpc.sh) $(JEST) --selectProjects e2e --runInBand; \
	  status=$$?; kind delete cluster --name weft-e2e; rm -f $(CURDIR)/.kind.kubeconfig; exit $$status

.PHONY: dashboard-picture
dashboard-picture: build ## the Grafana dashboard's panels from a 2-minute run against KUBECONFIG -> docs/dashboard.svg
	node --no-warnings --experimental-transform-types hack/dashboard-picture.ts 120

.PHONY: bench
bench: ## quick benchmark (3 interleaved repeats, each case after a quiet-machine gate): Weft, istiod and go-control-plane side by side -> docs/benchmarks.md
	bench/run.sh quick

.PHONY: bench-ca
bench-ca: deps ## certificate issuance: throughput and p99 with 100 concurrent CSRs, ECDSA and RSA -> docs/benchmarks-ca.md
	node --no-warnings --experimental-transform-types bench/ca-issuance.ts
bench: bench-ca

.PHONY: bench-xds
bench-xds: deps ## xDS fan-out of Weft alone: connect storm, push p50/p99, RSS per client (SotW and delta) -> docs/benchmarks.md
	bench/xds-fanout.sh

.PHONY: bench-scale
bench-scale: deps ## the scale curve of Weft alone: 100 -> 10 000 services x 100 -> 10 000 clients (SCALE_SIZES, SCALE_CLIENTS) -> docs/benchmarks.md
	bench/scale.sh

.PHONY: bench-hostile
bench-hostile: deps ## a client that never reads against 500 others: cut-off, RSS, their push p99 -> docs/security.md
	bench/hostile/slow-reader.sh

.PHONY: bench-full
bench-full: ## the whole benchmark matrix: 1000 services, 100/1000/2000 clients, proxyless and Envoy, SotW and delta
	bench/run.sh full
