// The operator's install names, ports, image and node flags: constants the running operator, its agent and its CLI
// read. Kept apart from operator-chart.ts so that reading them does not load cdk8s (7 MiB of heap, ~30 MiB of RSS).
export const OPERATOR_NAMESPACE = 'weft-system';
export const OPERATOR_NAME = 'weft-operator';
export const LEASE_NAME = 'weft-operator-leader';
export const METRICS_PORT = 8080;
/** The CA's TLS gRPC port (CreateCertificate), Istio's 15012. */
export const CA_PORT = 15012;
export const OPERATOR_IMAGE = 'ghcr.io/weft-mesh/weft:0.1.0';
/**
 * V8 keeps its young generation (two semi-spaces of up to 64 MiB each without pointer compression, as Node ships)
 * at the size the start-up burst grew it to, for good: at 1000 services that was 128 MiB of a 386 MiB RSS at rest.
 * 8 MiB semi-spaces cut RSS by a third at no measurable cost in time to settle (docs/benchmarks.md, Memory).
 * --expose-gc lets the operator collect once when its start-up burst is over (controllers/startup-compaction.ts).
 * While proxies connect by the hundred the operator sets V8's --heap-growing-percent itself, and takes it back after
 * (controllers/burst-heap-growth.ts); given here, the flag stays as given.
 * Tried and not kept beside it, in the Deployment's environment: MALLOC_ARENA_MAX=1. glibc's per-thread arenas hold
 * 20-25 MiB at rest at 1000 services and one arena saved 8-13 MiB of RSS, but V8's and libuv's threads then share
 * one allocator lock: push p50 at 2000 clients rose by ~40 ms (docs/benchmarks.md, Memory). The operator calls
 * glibc's malloc_trim after its start-up burst instead (controllers/malloc-trim.ts), which frees those pages without
 * a shared lock.
 */
export const OPERATOR_NODE_OPTIONS = '--max-semi-space-size=8 --expose-gc';
