// The xDS side of the operator, as a Runnable on every replica (needLeaderElection false): each replica builds the
// mesh model from its own informers and serves it over ADS, so xDS capacity grows with replicas. It starts
// serving only once the caches are synced, so a proxy never sees a half-empty mesh (which for LDS/CDS would mean
// deleting what it has).
import type { Logger } from 'pino';
import type { Informer, KubeObject, Runnable } from '../controllers/index.js';
import { authenticatedCaller } from '../ca/authenticated.js';
import type { TlsSecretData } from './generators/gateway.js';
import { MeshModelStore } from '../mesh/model/index.js';
import { watchGatewayChanges, watchModelChanges, type MeshState } from '../mesh/state/index.js';
import { ResourceCache, withRelease, type FanOutSummary, type ProxyView } from './cache.js';
import { ConfigBuilder } from './config-builder.js';
import { authorizeProxy } from './authorize.js';
import { AdaptiveDebouncer } from './debounce.js';
import { GatewayBuilder } from './gateway-builder.js';
import { AdsServer, type AdsServerOptions } from './server/ads-server.js';
import type { ProxyInfo } from './server/proxy.js';
import type { ConnectedProxy } from './server/stream.js';

export interface XdsOptions {
  /** Plaintext ADS binds here: loopback only (the authenticated path is the agent's, see docs/architecture.md). */
  host?: string;
  /** The plaintext loopback port; 0 picks a free one (tests); absent: none (the authenticated port serves alone). */
  port?: number;
  /** Debounce: a burst of changes in one namespace goes out once `quietMs` pass without another (max `maxDelayMs`). */
  quietMs?: number;
  maxDelayMs?: number;
  controlPlaneId?: string;
  log: Logger;
  /** ACK/NACK observers (sync status, metrics). */
  onAnswer?: AdsServerOptions['onAnswer'];
  onConnect?: AdsServerOptions['onConnect'];
  onDisconnect?: AdsServerOptions['onDisconnect'];
  onAccepted?: AdsServerOptions['onAccepted'];
  /** Called after every push with the hosts whose config changed (none when only gateway config changed). */
  onPushed?: (hosts: ReadonlySet<string>) => void;
  /**
   * Called once a push caused by informer events has been written to every stream it concerns: which debouncer
   * it came through, and when the first change it carries was seen (performance.now()). Not for the first build.
   */
  onPushWritten?: (push: PushWritten) => void;
  /** What one client may cost; the defaults otherwise. */
  limits?: AdsServerOptions['limits'];
  /** A stream ended for what it cost (metrics). */
  onLimited?: AdsServerOptions['onLimited'];
  /** kubernetes.io/tls Secrets, for gateways' SDS (the Gateway reconciler's informer). Without it, no TLS servers. */
  tlsSecrets?: Informer<KubeObject & TlsSecretData>;
}

/** What the push latency metric is told about one push. */
export interface PushWritten {
  /** Host config (services, routes, endpoints) or gateway-only config (a Gateway, a TLS Secret). */
  trigger: 'hosts' | 'gateways';
  /** When this replica saw the first change the push carries (performance.now()). */
  firstChangeAt: number;
  /** When its last stream write was made (performance.now()). */
  writtenAt: number;
}

export class XdsControlPlane implements Runnable {
  readonly needLeaderElection = false;
  readonly cache: ResourceCache;
  readonly model: MeshModelStore;
  readonly server: AdsServer;
  private readonly builder: ConfigBuilder;
  private readonly gateways: GatewayBuilder;
  private readonly debouncer: AdaptiveDebouncer<string, string>;
  /** Gateway config changes that touch no host (a Gateway, a TLS Secret), gathered like host changes. */
  private readonly gatewayDebouncer: AdaptiveDebouncer<string, string>;
  private boundPort: number | undefined;
  /** True once the first config is built from synced caches (whatever ports serve it). */
  private started = false;
  private readonly readyWaiters: Array<(port: number | undefined) => void> = [];

  constructor(
    private readonly state: MeshState,
    private readonly options: XdsOptions,
  ) {
    const id = options.controlPlaneId ?? 'weft';
    const log = options.log.child({ component: 'xds' });
    this.cache = new ResourceCache({
      controlPlaneId: id,
      // How a push reached the streams (turns: streams told after the first waited behind ACKs and new streams).
      ...(log.isLevelEnabled('debug') ? { onFanOut: (f: FanOutSummary) => log.debug({ ...f, busyMs: Math.round(f.busyMs), ms: Math.round(f.ms) }, 'xDS push told to every stream') } : {}),
    });
    const inputs = state.inputs;
    this.model = new MeshModelStore(inputs);
    this.builder = new ConfigBuilder(this.cache, this.model, options.log);
    const secrets = options.tlsSecrets;
    this.gateways = new GatewayBuilder(this.cache, this.model, { ...inputs, secret: (ns, name) => secrets?.get(ns, name) }, options.log);
    const debounce = { quietMs: options.quietMs ?? 100, maxDelayMs: options.maxDelayMs ?? 1000 };
    this.debouncer = new AdaptiveDebouncer((hosts, since) => this.push(hosts, false, since), debounce);
    this.gatewayDebouncer = new AdaptiveDebouncer((_namespaces, since) => {
      if (!this.gateways.update()) return;
      options.onPushed?.(new Set());
      this.afterWritten('gateways', since);
    }, debounce);
    this.server = new AdsServer({
      openView: (proxy, protocol) => (proxy.gateway ? this.gatewayView(proxy, proxy.gateway) : this.builder.viewFor(proxy, protocol)),
      authorize: (proxy, call) => authorizeProxy(proxy, authenticatedCaller(call), (ns, name) => state.informers.gateways.get(ns, name)),
      countsPerPeer: (call) => authenticatedCaller(call) !== undefined,
      isReady: () => this.started,
      log,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.onLimited ? { onLimited: options.onLimited } : {}),
      onAnswer: (proxy, typeUrl, outcome) => {
        if (!outcome.acked) log.warn({ proxy: proxy.proxy?.id, typeUrl, version: outcome.rejection.version, error: outcome.rejection.error }, 'proxy rejected config (NACK)');
        options.onAnswer?.(proxy, typeUrl, outcome);
      },
      onConnect: (proxy) => options.onConnect?.(proxy),
      ...(options.onAccepted ? { onAccepted: options.onAccepted } : {}),
      onDisconnect: (proxy) => {
        log.debug({ proxy: proxy.proxy?.id }, 'proxy disconnected');
        options.onDisconnect?.(proxy);
      },
    });
  }

  /** A gateway proxy's view, with its placement's endpoints (locality load balancing) as sidecars have. */
  private gatewayView(proxy: ProxyInfo, gateway: NonNullable<ProxyInfo['gateway']>): { view: ProxyView; release: () => void } {
    const placement = this.builder.localities.acquire(proxy);
    return withRelease(this.gateways.viewFor(gateway, [placement.key]), placement.release);
  }

  /** The bound plaintext port, once serving (undefined without one). */
  get port(): number | undefined {
    return this.boundPort;
  }

  /** Whether config is being served (built from synced caches). */
  get isServing(): boolean {
    return this.started;
  }

  /** Resolves once config is served, with the plaintext port if there is one. */
  serving(): Promise<number | undefined> {
    if (this.started) return Promise.resolve(this.boundPort);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  connected(): Iterable<ConnectedProxy> {
    return this.server.connected();
  }

  /** Changes seen and not pushed yet, per debouncer (a queue depth: hosts, and namespaces for gateway-only config). */
  pendingChanges(): { hosts: number; gateways: number } {
    return { hosts: this.debouncer.pending, gateways: this.gatewayDebouncer.pending };
  }

  async start(signal: AbortSignal): Promise<void> {
    const informers = [...this.state.allInformers(), ...(this.options.tlsSecrets ? [this.options.tlsSecrets] : [])];
    const synced = await Promise.all(informers.map((i) => i.waitForSync(signal)));
    if (signal.aborted || !synced.every(Boolean)) return;
    const unwatchModel = watchModelChanges(this.state.informers, this.model, (namespace, hosts) => this.debouncer.add(namespace, hosts));
    const unwatchGateways = watchGatewayChanges(this.state.informers, this.options.tlsSecrets, (namespace) => this.gatewayDebouncer.add(namespace, [namespace]));
    const unwatchAuthorization = this.watchAuthorization();
    const unwatch = () => {
      unwatchModel();
      unwatchGateways();
      unwatchAuthorization();
    };
    this.push(this.model.rebuildAll(), true);
    this.gateways.update();
    try {
      if (this.options.port !== undefined) {
        this.boundPort = await this.server.listen(this.options.host ?? '127.0.0.1', this.options.port);
        this.options.log.info({ port: this.boundPort, services: [...this.model.services()].length }, 'xDS server listening (plaintext, loopback)');
      } else {
        this.options.log.info({ services: [...this.model.services()].length }, 'xDS serving on the authenticated port only');
      }
      this.started = true;
      for (const resolve of this.readyWaiters.splice(0)) resolve(this.boundPort);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      unwatch();
      this.server.stop();
    }
  }

  /**
   * A Gateway that appears, goes, or changes its ServiceAccount (spec or annotation) can end a gateway stream's
   * authorization: every stream is asked again, once per burst of changes.
   */
  private watchAuthorization(): () => void {
    let scheduled = false;
    let replaying = true;
    const recheck = () => {
      if (replaying || scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        this.server.reauthorize();
      });
    };
    const unsubscribe = this.state.informers.gateways.on({ onAdd: recheck, onUpdate: recheck, onDelete: recheck });
    replaying = false;
    return unsubscribe;
  }

  /** Recomputes the model for `hosts` (unless already done) and pushes what changed; `since`: its first change. */
  private push(hosts: Set<string>, recomputed = false, since?: number): void {
    const started = performance.now();
    const changed = recomputed ? hosts : this.model.recompute(hosts);
    if (changed.size === 0) return;
    this.builder.update(changed);
    // Gateway routes read the model: destination ports and subsets.
    this.gateways.updateForHosts(changed);
    this.options.log.debug({ hosts: [...changed], ms: Math.round(performance.now() - started) }, 'xDS config updated');
    this.options.onPushed?.(changed);
    if (since !== undefined) this.afterWritten('hosts', since);
  }

  /** Tells onPushWritten once the streams have all been written to (a big fan-out takes several event-loop turns). */
  private afterWritten(trigger: PushWritten['trigger'], firstChangeAt: number): void {
    const onPushWritten = this.options.onPushWritten;
    if (onPushWritten) this.cache.afterFanOut(() => onPushWritten({ trigger, firstChangeAt, writtenAt: performance.now() }));
  }
}
