// EDS for clusters with locality load balancing in force: their assignment depends on where the proxy is, so they
// live in one collection per placement (locality + labels) instead of the shared ones, and each proxy's view adds
// its placement's collection. An assignment is computed and encoded once per (cluster, placementKey) and shared by
// every placement with that key (proxies in one zone, or every proxy a `distribute` rule treats alike); a change
// reaches only the placements whose assignment bytes changed.
import type { ResourceCache } from './cache.js';
import { assignmentMessage, localityString, localize, placementKey, placementOf, type ProxyPlacement } from './generators/locality.js';
import type { Generated } from './generators/types.js';
import { TypeUrl } from './protos.js';
import { encodeResource, type XdsResource } from './resource.js';
import type { ProxyInfo } from './server/proxy.js';

/** A cluster whose EDS is per placement: what the generator made, and its assignments so far by placement key. */
interface LocalizedCluster {
  generated: Generated & { localized: NonNullable<Generated['localized']> };
  /** What the assignments depend on: equal fingerprints, same assignments (a push that did not change the cluster). */
  fingerprint: string;
  byKey: Map<string, XdsResource>;
}

export const PLACEMENT_COLLECTION_PREFIX = 'placement/';

/** Placements remembered by what the node said (see placementFor); past this many, forgotten at once. */
const MAX_REMEMBERED_PLACEMENTS = 4096;

export class LocalityEndpoints {
  private readonly clusters = new Map<string, LocalizedCluster>();
  /** Placement collections in use: key → the placement, and how many streams use it. */
  private readonly placements = new Map<string, { placement: ProxyPlacement; streams: number }>();
  /** Placements and their collection keys by the node's locality and labels as sent (see placementFor). */
  private readonly remembered = new Map<string, { placement: ProxyPlacement; key: string }>();

  constructor(private readonly cache: ResourceCache) {}

  /** The collection key of the proxy's placement, filled on first use; release it when the stream ends. */
  acquire(proxy: Pick<ProxyInfo, 'locality' | 'metadata'>): { key: string; release: () => void } {
    const { placement, key } = this.placementFor(proxy);
    let entry = this.placements.get(key);
    if (!entry) {
      entry = { placement, streams: 0 };
      this.placements.set(key, entry);
      this.cache.collection(key).replaceAll([...this.clusters.values()].map((c) => this.assignment(c, placement)));
    }
    entry.streams++;
    const held = entry;
    let released = false;
    return {
      key,
      release: () => {
        if (released) return;
        released = true;
        if (--held.streams === 0) {
          this.placements.delete(key);
          this.cache.dropCollection(key);
        }
      },
    };
  }

  /**
   * The proxy's placement and collection key, remembered by its node's locality and labels as sent: a connect storm's
   * thousands of proxies come from a few workloads, and sorting each one's labels into a key was 2% of the storm.
   */
  private placementFor(proxy: Pick<ProxyInfo, 'locality' | 'metadata'>): { placement: ProxyPlacement; key: string } {
    const l = proxy.locality;
    // JSON, not joined strings: no two different localities and labels make the same key.
    const said = JSON.stringify([l?.region ?? '', l?.zone ?? '', l?.sub_zone ?? '', proxy.metadata.LABELS ?? null]);
    let known = this.remembered.get(said);
    if (!known) {
      if (this.remembered.size >= MAX_REMEMBERED_PLACEMENTS) this.remembered.clear();
      const placement = placementOf(proxy);
      known = { placement, key: collectionKey(placement) };
      this.remembered.set(said, known);
    }
    return known;
  }

  /** Brings the localized clusters in step: `upsert` replaces (or adds) clusters, `remove` names those that are gone or no longer localized. */
  update(upsert: readonly Generated[], remove: readonly string[]): void {
    const changed: LocalizedCluster[] = [];
    for (const name of remove) this.clusters.delete(name);
    for (const g of upsert) {
      if (!g.localized) continue;
      const fingerprint = JSON.stringify([g.message, g.localized, g.sources]);
      const held = this.clusters.get(g.name);
      if (held?.fingerprint === fingerprint) continue;
      const cluster: LocalizedCluster = { generated: g as LocalizedCluster['generated'], fingerprint, byKey: new Map() };
      this.clusters.set(g.name, cluster);
      changed.push(cluster);
    }
    if (changed.length === 0 && remove.length === 0) return;
    for (const [key, { placement }] of this.placements) {
      this.cache.collection(key).apply({
        upsert: changed.map((c) => this.assignment(c, placement)),
        remove: remove.map((name) => ({ typeUrl: TypeUrl.endpoint, name })),
      });
    }
  }

  /** The cluster's assignment for `placement`: computed once per placement key. */
  private assignment(cluster: LocalizedCluster, placement: ProxyPlacement): XdsResource {
    const { generated } = cluster;
    const { groups, rule } = generated.localized;
    const key = placementKey(rule, placement);
    let resource = cluster.byKey.get(key);
    if (!resource) {
      const message = assignmentMessage(generated.name, localize(groups, rule, placement));
      resource = encodeResource(generated.typeUrl, generated.name, message, generated.sources);
      cluster.byKey.set(key, resource);
    }
    return resource;
  }
}

/** Proxies with the same locality and labels share a collection (and a view). */
function collectionKey(placement: ProxyPlacement): string {
  const labels = Object.entries(placement.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${PLACEMENT_COLLECTION_PREFIX}${localityString(placement.locality)}${labels ? `|${labels}` : ''}`;
}
