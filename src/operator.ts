// The operator process: a manager with the mesh reconcilers, leader election and the metrics/health server.
import { registerCa, type CaOptions } from './ca/index.js';
import { loadClusterAccess, Manager } from './controllers/index.js';
import { defaultLogger } from './controllers/logger.js';
import { StartupCompaction } from './controllers/startup-compaction.js';
import { LEASE_NAME, OPERATOR_NAMESPACE } from './install/names.js';
import { MeshState } from './mesh/state/index.js';
import { registerMeshReconcilers } from './reconcilers/index.js';
import { XdsFeature } from './xds/index.js';
import type { XdsFlagOptions } from './xds/flags.js';
import { DEFAULT_XDS_LIMITS, xdsServerOptions } from './xds/server/limits.js';
import { CaBundleKeeper } from './inject/ca-bundle.js';
import type { InjectFlagOptions } from './inject/flags.js';
import { WebhookServer } from './inject/server.js';

export interface OperatorOptions {
  kubeconfigPath?: string;
  metricsPort: number;
  leaderElect: boolean;
  leaseNamespace?: string;
  identity?: string;
  /** The CA: certificate service on a TLS port, CA Secret rotation, trust bundles. Absent: no CA. */
  ca?: CaOptions;
  /** xDS on the CA's authenticated port, and on 127.0.0.1 plaintext with a port (tests, local development). Absent: no xDS, and Ready = Accepted. */
  xds?: XdsFlagOptions | undefined;
  /** The sidecar injection webhook (HTTPS, the CA's serving certificate). Absent: none. */
  inject?: InjectFlagOptions | undefined;
}

/** Runs until SIGTERM/SIGINT (graceful: the lease is released so a peer takes over at once). */
export async function runOperator(options: OperatorOptions): Promise<void> {
  const log = defaultLogger();
  const manager = new Manager({
    // Not client-node's KubeConfig unless the kubeconfig needs it (exec plugins, ...): see cluster-access.ts.
    access: loadClusterAccess(options.kubeconfigPath ? { kubeconfigPath: options.kubeconfigPath } : {}),
    log,
    http: { port: options.metricsPort },
    // After an API server outage longer than the renew deadline, step down (writes stop at once) and campaign
    // again, rather than exit: a host-run operator has no kubelet to restart it.
    campaignAfterLoss: true,
    leaderElection: options.leaderElect
      ? { namespace: options.leaseNamespace ?? OPERATOR_NAMESPACE, name: LEASE_NAME, ...(options.identity ? { identity: options.identity } : {}) }
      : undefined,
  });
  // The layers start in one direction: the mesh state, then the xDS pipeline reading it, then the reconcilers reading
  // both (they write what xDS says about serving into status).
  const state = new MeshState(manager);
  const xds = options.xds ? new XdsFeature(manager, { ...options.xds, log, syncNamespace: options.leaseNamespace ?? OPERATOR_NAMESPACE }) : undefined;
  const controlPlane = xds?.serve(state);
  // Proxies' config goes before objects' status is judged again (a restart's reconnecting proxies first of all).
  if (xds) manager.slices.deferWhile(() => xds.reconcileHoldBackMs());
  registerMeshReconcilers(
    manager,
    state,
    manager.eventRecorder('weft.dev/operator'),
    xds ? { programmed: xds.sync, gatewayServing: (gw, accepted) => xds.gatewayServing(gw, accepted) } : {},
  );
  // The TLS port serves xDS to the agents too: the same connection limits as the plaintext xDS port, and a cap on
  // connections per client IP (with or without xDS: the port is reachable from every Pod).
  const limits = options.xds?.limits ?? DEFAULT_XDS_LIMITS;
  const caOptions = options.ca
    ? {
        ...options.ca,
        maxConnectionsPerPeer: limits.maxConnectionsPerPeer,
        ...(xds ? { serverOptions: xdsServerOptions(limits), onConnectionAccepted: () => xds.connectionAccepted() } : {}),
      }
    : undefined;
  const ca = caOptions ? registerCa(manager, manager.eventRecorder('weft.dev/ca'), caOptions) : undefined;
  // xDS on the TLS port too, for `weft agent` relays authenticated by their workloads' ServiceAccount tokens.
  if (ca && controlPlane) ca.addAuthenticatedService(controlPlane.server.service.definition, controlPlane.server.service.implementation);
  if (options.inject) {
    if (!ca) throw new Error('the injection webhook needs the CA (its serving certificate)');
    // Every replica answers the API server; the leader keeps the webhook's caBundle on the current trust bundle.
    manager.add(new WebhookServer(ca.serving, { ...options.inject, log: log.child({ component: 'inject' }) }));
    manager.add(new CaBundleKeeper(manager, ca.serving, log.child({ component: 'inject' })));
  }
  manager.add(
    new StartupCompaction({
      synced: () => manager.hasSynced(),
      idle: () => manager.metrics.queuesIdle() && manager.pendingEventWrites() === 0,
      ...(xds ? { activity: () => xds.activity } : {}),
      log,
    }),
  );
  log.info({ identity: manager.identity, metricsPort: options.metricsPort, leaderElect: options.leaderElect }, 'weft operator starting');
  await manager.start(); // resolves once stopped (signal, or leadership lost), rejects if a part failed
}
