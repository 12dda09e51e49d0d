// Keeps the cache's collections in step with the mesh model, host by host: generators run for the hosts that
// changed (and the hosts whose routes point at them), each resource is encoded once, and only resources whose
// bytes changed reach the streams. Proxyless clients share one collection; Envoy sidecars share two (their
// listeners and routes, and the clusters and endpoints that gateway proxies read too), plus one small collection
// per sidecar for its own inbound side. Sidecars on delta xDS read a third first: route configurations that use
// VHDS and the virtual hosts as resources of their own, so a one-service change sends one virtual host. Endpoints
// of clusters with locality load balancing are per placement (locality-endpoints.ts): every view adds its proxy's
// placement collection.
import type { Logger } from 'pino';
import type { MeshModel } from '../mesh/model/index.js';
import { withRelease, type ProxyView, type ResourceCache } from './cache.js';
import {
  envoyInboundResources,
  envoyPortListener,
  envoyPortRoutes,
  envoyServiceResources,
  envoyStaticResources,
  envoyVhdsRoutes,
  envoyVirtualHost,
  type VirtualHostPart,
} from './generators/envoy.js';
import { envoyOutboundListener, envoyOutboundRoutes, envoyVirtualHostName } from './generators/names.js';
import { proxylessResources } from './generators/proxyless.js';
import type { Generated } from './generators/types.js';
import { TypeUrl } from './protos.js';
import { LocalityEndpoints } from './locality-endpoints.js';
import { encodeResource, type XdsResource } from './resource.js';
import type { ProxyInfo } from './server/proxy.js';
import type { Protocol } from './server/stream.js';

export const PROXYLESS_COLLECTION = 'proxyless';
/** Sidecars' outbound listeners and routes. */
export const ENVOY_COLLECTION = 'envoy';
/** Clusters and endpoints for Envoy: sidecars and gateways. */
export const ENVOY_CLUSTERS_COLLECTION = 'envoy-clusters';
/** Sidecars on delta xDS: VHDS route configurations (shadowing the inline ones) and their virtual hosts. */
export const ENVOY_VHDS_COLLECTION = 'envoy-vhds';

/** What one host contributed last time, so the next generation can tell what to remove. */
interface HostOutput {
  proxyless: XdsResource[];
  envoy: XdsResource[];
  virtualHosts: VirtualHostPart[];
  /** Assignments that differ per proxy placement (not in the shared collections). */
  localized: Generated[];
  /** Endpoint addresses: sidecars at these addresses serve the host (their inbound side depends on it). */
  addresses: Set<string>;
}

/** Upserts and removals gathered for one collection during an update. */
interface Batch {
  upsert: XdsResource[];
  remove: Array<{ typeUrl: string; name: string }>;
}

const EMPTY: HostOutput = { proxyless: [], envoy: [], virtualHosts: [], localized: [], addresses: new Set() };

function encode(g: Generated): XdsResource {
  return encodeResource(g.typeUrl, g.name, g.message, g.sources);
}

function encodeVirtualHost(part: VirtualHostPart): XdsResource {
  return encode(envoyVirtualHost(part));
}

function virtualHostRef(part: VirtualHostPart): { typeUrl: string; name: string } {
  return { typeUrl: TypeUrl.virtualHost, name: envoyVirtualHostName(part.port, part.host) };
}

export class ConfigBuilder {
  private readonly hosts = new Map<string, HostOutput>();
  private readonly virtualHostsByPort = new Map<number, Map<string, VirtualHostPart>>();
  /** Ports whose outbound listener is not built yet (see portResources). */
  private readonly stalePorts = new Set<number>();
  /** Ports whose inline route configuration (every virtual host of the port) is not built yet. */
  private readonly staleRoutePorts = new Set<number>();
  /** Envoy sidecar streams open, per protocol. */
  private readonly sidecars: Record<Protocol, number> = { sotw: 0, delta: 0 };
  /** Whether the VHDS collection is kept up to date (from the first delta sidecar on). */
  private vhdsLive = false;
  /** Envoy inbound collections in use: key → the addresses of the workload, and how many streams use it. */
  private readonly inbound = new Map<string, { ips: string[]; streams: number }>();
  /** Per-placement endpoints (locality load balancing); gateways' views use it too. */
  readonly localities: LocalityEndpoints;

  constructor(
    private readonly cache: ResourceCache,
    private readonly model: MeshModel,
    private readonly log?: Logger,
  ) {
    this.localities = new LocalityEndpoints(cache);
    const statics: Batch = { upsert: envoyStaticResources().map(encode), remove: [] };
    this.applyEnvoy(statics);
    this.cache.collection(PROXYLESS_COLLECTION);
  }

  /** Regenerates the resources of `changed` hosts and of the hosts whose routes send traffic to them. */
  update(changed: Iterable<string>): void {
    const hosts = new Set<string>();
    for (const h of changed) {
      hosts.add(h);
      for (const from of this.model.routedFrom(h)) hosts.add(from);
    }
    const proxyless: Batch = { upsert: [], remove: [] };
    const envoy: Batch = { upsert: [], remove: [] };
    const addresses = new Set<string>();
    const vhds: Batch = { upsert: [], remove: [] };
    const localized: Generated[] = [];
    const unlocalized: string[] = [];
    const ports = new Set<number>();
    for (const host of hosts) {
      const before = this.hosts.get(host) ?? EMPTY;
      let after: HostOutput;
      try {
        after = this.generate(host);
      } catch (err) {
        // A generator bug must not take down what is served: keep the last good resources of this host.
        this.log?.error({ err: String(err), host }, 'xDS generation failed; keeping the previous config for the host');
        continue;
      }
      diff(before.proxyless, after.proxyless, proxyless);
      diff(before.envoy, after.envoy, envoy);
      const stillLocalized = new Set(after.localized.map((g) => g.name));
      for (const g of before.localized) if (!stillLocalized.has(g.name)) unlocalized.push(g.name);
      localized.push(...after.localized);
      for (const v of before.virtualHosts) {
        ports.add(v.port);
        this.virtualHostsByPort.get(v.port)?.delete(host);
      }
      for (const v of after.virtualHosts) {
        ports.add(v.port);
        let byHost = this.virtualHostsByPort.get(v.port);
        if (!byHost) this.virtualHostsByPort.set(v.port, (byHost = new Map()));
        byHost.set(host, v);
      }
      // Only names are needed of what was there before: encoding them again would be wasted on every change.
      if (this.vhdsLive) diff(before.virtualHosts.map(virtualHostRef), after.virtualHosts.map(encodeVirtualHost), vhds);
      for (const a of [...before.addresses, ...after.addresses]) addresses.add(a);
      if (after === EMPTY) this.hosts.delete(host);
      else this.hosts.set(host, after);
    }
    for (const port of ports) {
      this.stalePorts.add(port);
      this.staleRoutePorts.add(port);
      const held = (this.virtualHostsByPort.get(port)?.size ?? 0) > 0;
      if (!held) this.virtualHostsByPort.delete(port);
      if (!this.vhdsLive) continue;
      const stub = encode(envoyVhdsRoutes(port));
      if (held) vhds.upsert.push(stub);
      else vhds.remove.push(stub);
    }
    this.portResources(envoy);
    this.cache.collection(PROXYLESS_COLLECTION).apply(proxyless);
    this.applyEnvoy(envoy);
    // After the clusters (applyEnvoy): a virtual host never reaches a stream before the clusters it routes to.
    this.cache.collection(ENVOY_VHDS_COLLECTION).apply(vhds);
    // After the shared collections: a cluster that became localized is in CDS before its endpoints change here.
    this.localities.update(localized, unlocalized);
    for (const [key, { ips }] of this.inbound) if (ips.some((ip) => addresses.has(ip))) this.updateInbound(key, ips);
  }

  /**
   * The view for a proxy: the proxyless collection, or the Envoy ones plus the sidecar's own inbound side (and, on
   * delta xDS, the VHDS collection before them). (Gateway proxies are GatewayBuilder's.)
   */
  viewFor(proxy: ProxyInfo, protocol: Protocol = 'sotw'): { view: ProxyView; release: () => void } {
    const placement = this.localities.acquire(proxy);
    if (proxy.kind === 'proxyless') return withRelease(this.cache.acquireView([PROXYLESS_COLLECTION, placement.key]), placement.release);
    this.sidecars[protocol]++;
    const batch: Batch = { upsert: [], remove: [] };
    this.portResources(batch);
    this.applyEnvoy(batch);
    if (protocol === 'delta' && !this.vhdsLive) this.startVhds();
    const ips = [...proxy.ips].sort();
    const key = `envoy-inbound/${ips.join(',') || proxy.id}`;
    let entry = this.inbound.get(key);
    if (!entry) {
      entry = { ips, streams: 0 };
      this.inbound.set(key, entry);
      this.updateInbound(key, ips);
    }
    entry.streams++;
    const shared = protocol === 'delta' ? [ENVOY_VHDS_COLLECTION, ENVOY_COLLECTION] : [ENVOY_COLLECTION];
    const { view, release } = this.cache.acquireView([...shared, ENVOY_CLUSTERS_COLLECTION, key, placement.key]);
    let released = false;
    return {
      view,
      release: () => {
        if (released) return;
        released = true;
        this.sidecars[protocol]--;
        release();
        placement.release();
        if (--entry.streams === 0) {
          this.inbound.delete(key);
          this.cache.dropCollection(key);
        }
      },
    };
  }

  /**
   * The outbound listener of every port whose services changed, while any sidecar is connected, and its inline
   * route configuration, while a sidecar on SotW is: that one holds a virtual host per service on the port (1000 at
   * the benchmark's scale) and is rebuilt on every change of one of them. Until then the ports just stay marked stale.
   */
  private portResources(batch: Batch): void {
    if (this.sidecars.sotw + this.sidecars.delta === 0) return;
    for (const port of this.stalePorts) {
      if (this.virtualHostsByPort.has(port)) batch.upsert.push(encode(envoyPortListener(port)));
      else batch.remove.push({ typeUrl: TypeUrl.listener, name: envoyOutboundListener(port) });
    }
    this.stalePorts.clear();
    if (this.sidecars.sotw === 0) return;
    for (const port of this.staleRoutePorts) {
      const parts = this.virtualHostsByPort.get(port);
      if (parts) batch.upsert.push(encode(envoyPortRoutes(port, [...parts.values()])));
      else batch.remove.push({ typeUrl: TypeUrl.route, name: envoyOutboundRoutes(port) });
    }
    this.staleRoutePorts.clear();
  }

  /** Fills the VHDS collection from every port's virtual hosts; update() keeps it current from then on. */
  private startVhds(): void {
    const resources: XdsResource[] = [];
    for (const [port, parts] of this.virtualHostsByPort) {
      resources.push(encode(envoyVhdsRoutes(port)));
      for (const part of parts.values()) resources.push(encodeVirtualHost(part));
    }
    this.cache.collection(ENVOY_VHDS_COLLECTION).replaceAll(resources);
    this.vhdsLive = true;
  }

  /** Listeners and routes to the sidecars' collection, clusters and endpoints to the one gateways share. */
  private applyEnvoy(batch: Batch): void {
    const isListenerSide = (r: { typeUrl: string }) => r.typeUrl === TypeUrl.listener || r.typeUrl === TypeUrl.route;
    this.cache.collection(ENVOY_COLLECTION).apply({ upsert: batch.upsert.filter(isListenerSide), remove: batch.remove.filter(isListenerSide) });
    this.cache.collection(ENVOY_CLUSTERS_COLLECTION).apply({
      upsert: batch.upsert.filter((r) => !isListenerSide(r)),
      remove: batch.remove.filter((r) => !isListenerSide(r)),
    });
  }

  private generate(host: string): HostOutput {
    const service = this.model.service(host);
    if (!service) return EMPTY;
    const proxylessGenerated = proxylessResources(service, this.model);
    const { resources: envoyGenerated, virtualHosts } = envoyServiceResources(service, this.model);
    // Per-placement endpoints go to LocalityEndpoints (the same for both kinds of proxy), not the shared collections.
    const localized = new Map<string, Generated>();
    for (const g of [...proxylessGenerated, ...envoyGenerated]) if (g.localized) localized.set(g.name, g);
    const notLocalized = (g: Generated) => !g.localized;
    // Endpoints are the same for both kinds of proxy: encode once, serve the same bytes to both.
    const shared = new Map<string, XdsResource>();
    const encodeShared = (g: Generated): XdsResource => {
      if (g.typeUrl !== TypeUrl.endpoint) return encode(g);
      let r = shared.get(g.name);
      if (!r) shared.set(g.name, (r = encode(g)));
      return r;
    };
    return {
      proxyless: proxylessGenerated.filter(notLocalized).map(encodeShared),
      envoy: envoyGenerated.filter(notLocalized).map(encodeShared),
      virtualHosts,
      localized: [...localized.values()],
      addresses: new Set(service.endpoints.map((e) => e.address)),
    };
  }

  private updateInbound(key: string, ips: string[]): void {
    this.cache.collection(key).replaceAll(envoyInboundResources(ips, this.model).map(encode));
  }
}

/** Adds to `update` what turns `before` into `after` (unchanged resources are skipped by the collection). */
function diff(before: ReadonlyArray<{ typeUrl: string; name: string }>, after: readonly XdsResource[], batch: Batch): void {
  const kept = new Set(after.map((r) => `${r.typeUrl} ${r.name}`));
  for (const r of before) if (!kept.has(`${r.typeUrl} ${r.name}`)) batch.remove.push(r);
  batch.upsert.push(...after);
}
