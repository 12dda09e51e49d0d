// xDS for the operator: `weft operator --xds` serves the mesh over ADS (SotW and delta) on the authenticated port
// (`--xds-port` adds a plaintext loopback one), feeds
// Programmed/sync state to the reconcilers' status, and (with --xds-debug-port) a debug endpoint.
//
// Seams for the other parts of the mesh:
// - Secure transport: this port is plaintext on loopback only. AdsServer.service is also mounted on the CA's TLS
//   port for ServiceAccount-token holders (src/operator.ts), where `weft agent` relays its workload's ADS.
// - mTLS and authorization: the model carries each endpoint's MeshPolicy security; generators/mtls.ts builds the
//   proxyless server listeners (weft/grpc/lds/inbound/<ip>:<port>) and cluster transport sockets from it. For
//   Envoy sidecars the same belongs in envoyInboundResources (a transport socket per filter chain),
//   http-filters.ts (RBAC before the router) and clusters.ts (an UpstreamTlsContext); TypeUrl.secret is there for SDS.
// - Gateways: each gateway workload has its own collection (listeners, routes, SDS secrets: gateway-builder.ts)
//   beside the clusters sidecars use; its Programmed comes from SyncStatus like the mesh kinds' (gateway-serving.ts).
// - Kubernetes Services and EndpointSlices are the second service registry (src/mesh/model/kubernetes.ts), after
//   ServiceEntries.
import type { Logger } from 'pino';
import type { AnyMeshObject, Gateway } from '../api/index.js';
import type { Manager } from '../controllers/index.js';
import { tlsSecretInformer } from '../gateway/informers.js';
import type { ServingState } from '../gateway/status.js';
import { informersByKind, type MeshState } from '../mesh/state/index.js';
import { XdsControlPlane } from './control-plane.js';
import { ConvergenceTracker, watchGenerations } from './convergence.js';
import { xdsMetrics } from './metrics.js';
import type { XdsLimits } from './server/limits.js';
import { startDebugServer } from './debug.js';
import { hasRejections } from './server/stream.js';
import { gatewayServing } from './gateway-serving.js';
import { SyncStatus } from './sync-status.js';
import { DumpResponder, dumpRequestInformer } from './mesh-sync/config-dump.js';
import { countsAsSync, objectCountsJson, proxiesJson } from './mesh-sync/summary.js';
import { DEFAULT_SUMMARY_TIMING, ReplicaSummaries, SummaryPublisher, summaryInformer, type SummaryTiming } from './mesh-sync/summary-store.js';
import { BurstHeapGrowth } from '../controllers/burst-heap-growth.js';

export { XdsControlPlane, type XdsOptions } from './control-plane.js';
export { SyncStatus } from './sync-status.js';

export interface XdsFeatureOptions {
  /** The plaintext loopback port; absent: none. */
  port?: number;
  host?: string;
  /** The debug endpoint's port (loopback); off when absent. */
  debugPort?: number;
  log: Logger;
  /** How often status may be recomputed from ACKs (and so how often a resource's status is written, at most). */
  statusIntervalMs?: number;
  /** What one client may cost (server/limits.ts). */
  limits?: XdsLimits;
  /**
   * The operator namespace: each replica publishes its proxies' sync summary there (mesh-sync/), the leader sums
   * them into status, and config dumps are answered there. Absent: this replica's own proxies only.
   */
  syncNamespace?: string;
  syncTiming?: SummaryTiming;
}

/** How long after the last connection of a burst proxies count as connecting still (ms). */
const PROXIES_CONNECTING_LINGER_MS = 2000;
/** How long after a proxy last connected, answered or went it counts as being served (ms). */
const PROXY_ACTIVE_MS = 50;

/**
 * Construct before the reconcilers (they read `sync`), then `serve` the mesh state. Every replica serves;
 * only the leader's reconcilers write what `sync` says.
 */
export class XdsFeature {
  readonly sync: SyncStatus;
  private controlPlane: XdsControlPlane | undefined;
  private activityCount = 0;
  /** When a proxy last connected, answered or went (performance.now()); not our pushes (see moved). */
  private lastProxyActivityAt = -Infinity;
  private readonly burstGrowth: BurstHeapGrowth;

  constructor(
    private readonly manager: Manager,
    private readonly options: XdsFeatureOptions,
  ) {
    this.sync = new SyncStatus(options.statusIntervalMs ?? 1000);
    this.burstGrowth = new BurstHeapGrowth({ log: options.log });
  }

  /**
   * A connection accepted on a port that serves xDS (the plaintext one, the CA's TLS one the agents use), counted
   * before TLS and HTTP/2: a storm's first full collection starts within ~100 ms of it (the limit left at rest is
   * that close), and streams come too late to loosen that collection's limit.
   */
  connectionAccepted(): void {
    this.lastProxyActivityAt = performance.now();
    this.burstGrowth.connected();
  }

  /**
   * How long reconciles should hold back (ms; the operator's event-loop slices ask, see EventLoopSlices): up to a
   * second while proxies connect by the hundred (and for PROXIES_CONNECTING_LINGER_MS after: a storm's streams ask
   * and are answered for a while after their connections came), 100 ms while a proxy connected, answered or went
   * within the last PROXY_ACTIVE_MS (reconciles that hold the loop keep ~10% of it under steady load), else not at
   * all. Proxies' config goes first; reconciles that wait on I/O (status writes) give the loop its turns anyway.
   */
  reconcileHoldBackMs(): number {
    if (this.burstGrowth.burst.sinceLastMs() < PROXIES_CONNECTING_LINGER_MS) return 1000;
    return performance.now() - this.lastProxyActivityAt < PROXY_ACTIVE_MS ? 100 : 0;
  }

  /**
   * Moves with every connect, disconnect, push and answer of a proxy: the start-up compaction waits until it stands
   * still, so its full collection (0.2-0.9 s with 2000 proxies connected) never stalls a connect storm or a push.
   */
  get activity(): number {
    return this.activityCount;
  }

  /** `byProxy`: a proxy did it (a push with no proxy to tell, an operator's first start writing status, is not). */
  private moved(byProxy: boolean): void {
    this.activityCount++;
    if (byProxy) this.lastProxyActivityAt = performance.now();
  }

  serve(state: MeshState): XdsControlPlane {
    let cp: XdsControlPlane | undefined = undefined;
    const metrics = xdsMetrics(this.manager.metrics.registry, {
      replica: this.manager.identity,
      connected: () => [...(cp?.connected() ?? [])].map((p) => ({ kind: p.proxy?.kind ?? 'unknown', protocol: p.protocol })),
      pending: () => cp?.pendingChanges(),
    });
    const sync = this.sync;
    // Convergence reads this replica's own proxies' part of the sync state (every replica measures, leader or not),
    // as the sync status computed it last: computing it again after each ACK cost 40% of the CPU of a push to 2000
    // proxies. A generation's time ends at its completing ACK's own time, however late the look.
    const convergence = new ConvergenceTracker({
      summarize: () => sync.localSnapshot(),
      onConverged: (kind, seconds) => metrics.convergence.observe({ kind }, seconds),
    });
    sync.onComputed(() => convergence.changed());
    // What any proxy did: the sync status has something to recompute, and the operator was not at rest. Only
    // counts move when a proxy connects or ACKs (not clearing a rejection); what can change Programmed recomputes
    // at once even while proxies are still moving.
    const countsMoved = () => {
      this.moved(true);
      sync.proxyMoved();
    };
    const proxiesMoved = (byProxy = true) => {
      this.moved(byProxy);
      sync.markDirty();
    };
    cp = new XdsControlPlane(state, {
      ...(this.options.port !== undefined ? { port: this.options.port } : {}),
      ...(this.options.host ? { host: this.options.host } : {}),
      log: this.options.log,
      tlsSecrets: tlsSecretInformer(this.manager),
      ...(this.options.limits ? { limits: this.options.limits } : {}),
      onLimited: (_proxy, reason) => metrics.limited.inc({ reason }),
      onAnswer: (_proxy, typeUrl, outcome) => {
        if (outcome.acked) metrics.acks.inc(typeUrl);
        else metrics.nacks.inc(typeUrl);
        if (outcome.acked && !outcome.clearedRejection) countsMoved();
        else proxiesMoved();
      },
      onConnect: countsMoved,
      onAccepted: () => this.connectionAccepted(),
      onDisconnect: (proxy) => (hasRejections(proxy) ? proxiesMoved() : countsMoved()),
      onPushed: (hosts) => {
        metrics.pushes.inc();
        metrics.hosts.inc(hosts.size);
        proxiesMoved(false);
      },
      onPushWritten: ({ trigger, firstChangeAt, writtenAt }) => {
        metrics.pushDuration.observe({ trigger }, (writtenAt - firstChangeAt) / 1000);
      },
    });
    const objects = (kind: string) => (informersByKind(state.informers).find((i) => i.kind === kind)?.informer.list() ?? []) as AnyMeshObject[];
    const control = cp;
    const others = this.options.syncNamespace !== undefined ? this.meshWideSync(control, this.options.syncNamespace) : undefined;
    sync.attach({
      cache: control.cache,
      proxies: () => control.connected(),
      objects,
      isLeader: () => this.manager.isLeader(),
      serving: () => control.isServing,
      ...(others ? { remote: () => others.live().map((s) => countsAsSync(s.objects)) } : {}),
    });
    this.manager.add(control);
    this.manager.add(convergenceRunnable(control, state, convergence));
    if (this.options.debugPort !== undefined) this.manager.add(this.debugRunnable(control));
    this.controlPlane = control;
    return control;
  }

  /**
   * Every replica publishes its proxies' summary and answers config dumps for them; the returned reader gives the
   * other live replicas' summaries (the leader adds them into status).
   */
  private meshWideSync(control: XdsControlPlane, namespace: string): ReplicaSummaries {
    const timing = this.options.syncTiming ?? DEFAULT_SUMMARY_TIMING;
    const identity = this.manager.identity;
    const others = new ReplicaSummaries(summaryInformer(this.manager, namespace), identity, timing);
    others.watch(() => this.sync.markDirty());
    const build = async () =>
      control.isServing && this.sync.ready
        ? { proxies: await proxiesJson([...control.connected()]), objects: objectCountsJson(this.sync.localSnapshot()) }
        : undefined;
    this.manager.add(new SummaryPublisher(this.manager, namespace, identity, build, timing, others, () => this.sync.proxiesMoving));
    this.manager.add(new DumpResponder(this.manager, dumpRequestInformer(this.manager, namespace), identity, () => control.connected()));
    return others;
  }

  /** A Gateway's xDS side of Programmed (for the Gateway reconciler). */
  gatewayServing(gw: Gateway, accepted: boolean): ServingState | undefined {
    return gatewayServing(this.sync, gw, accepted);
  }

  get control(): XdsControlPlane | undefined {
    return this.controlPlane;
  }

  private debugRunnable(cp: XdsControlPlane) {
    const { debugPort, host, log } = this.options;
    const sync = this.sync;
    return {
      needLeaderElection: false,
      async start(signal: AbortSignal): Promise<void> {
        const server = await startDebugServer(
          {
            proxies: () => cp.connected(),
            resources: () => sync.snapshot(),
          },
          debugPort!,
          host ?? '127.0.0.1',
        );
        log.info({ port: server.port }, 'xDS debug endpoint listening (loopback)');
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        await server.close();
      },
    };
  }
}

/** Watches for new generations once config is served: the informers' first listing is not a change to measure. */
function convergenceRunnable(control: XdsControlPlane, state: MeshState, tracker: ConvergenceTracker) {
  return {
    needLeaderElection: false,
    async start(signal: AbortSignal): Promise<void> {
      const serving = control.serving();
      const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([serving, aborted]);
      if (signal.aborted) return;
      const unwatch = watchGenerations(state.informers, tracker);
      await aborted;
      unwatch();
    },
  };
}
