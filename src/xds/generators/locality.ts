// Locality load balancing (Istio's pilot/pkg/networking/core/loadbalancer): a cluster's endpoints put into
// priorities by how much locality they share with the proxy (failover), or given per-locality weights for proxies
// in a `distribute` rule's `from`. Pure functions of the endpoints grouped by locality, the rule and the proxy's
// placement (locality and labels); EDS then differs per placement, and this decides by what (placementKey).
import type { LocalityLoadBalancerSetting } from '../../api/index.js';
import { LOCALITY_LABELS } from '../../mesh/model/kubernetes.js';
import type { JsonValue } from '../server/messages.js';
import type { ProtoMessage } from '../resource.js';
import type { EffectivePolicy } from './policy.js';

export interface Locality {
  region: string;
  zone: string;
  subZone: string;
}

/** One endpoint as EDS carries it, with the labels failoverPriority compares. */
export interface LocalityEndpoint {
  lbEndpoint: ProtoMessage;
  weight: number;
  labels: Readonly<Record<string, string>>;
}

/** The endpoints of one locality at one priority; `weight` is the locality's load_balancing_weight. */
export interface LocalityGroup {
  locality: Locality;
  endpoints: readonly LocalityEndpoint[];
  weight: number;
  priority: number;
}

/** What a cluster's locality load balancing does: weights (`distribute`), or failover when outlier detection can see failures. */
export interface LocalityRule {
  setting: LocalityLoadBalancerSetting;
  /** Outlier detection is set: without it a proxy never sees an endpoint fail, so Istio does not fail over. */
  failover: boolean;
}

/** Where a proxy is: its locality and labels (with its locality's topology labels added, as Istio does). */
export interface ProxyPlacement {
  locality: Locality;
  labels: Readonly<Record<string, string>>;
}

const [REGION_LABEL, ZONE_LABEL, SUBZONE_LABEL] = LOCALITY_LABELS;
/** Istio's network label: Weft has one network, so every endpoint and proxy share it. */
const NETWORK_LABEL = 'topology.istio.io/network';
/** Istio's locality override label on a workload: `region.zone.subzone`. */
const ISTIO_LOCALITY_LABEL = 'istio-locality';

export function parseLocality(text: string | undefined): Locality {
  const [region = '', zone = '', subZone = ''] = (text ?? '').split('/');
  return { region, zone, subZone };
}

export function localityString(l: Locality): string {
  return `${l.region}/${l.zone}/${l.subZone}`;
}

/** Labels with the topology labels of `locality` added (Istio's AugmentLabels), so failoverPriority can name them. */
export function withTopologyLabels(labels: Readonly<Record<string, string>>, locality: Locality): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  if (locality.region) out[REGION_LABEL] = locality.region;
  if (locality.zone) out[ZONE_LABEL] = locality.zone;
  if (locality.subZone) out[SUBZONE_LABEL] = locality.subZone;
  return out;
}

/**
 * The rule in force for a cluster, or undefined when its EDS is the same for every proxy. As in Istio with its
 * default mesh config (localityLbSetting enabled): failover by locality applies whenever outlier detection is set,
 * `distribute` whenever given, and `enabled: false` turns both off.
 */
export function localityRule(policy: EffectivePolicy): LocalityRule | undefined {
  const setting = policy.loadBalancer?.localityLbSetting ?? {};
  if (setting.enabled === false) return undefined;
  const failover = policy.outlierDetection !== undefined;
  if ((setting.distribute?.length ?? 0) === 0 && !failover) return undefined;
  return { setting, failover };
}

/** The proxy's labels from its node metadata (LABELS), and its locality: from those labels first, then the node's (Istio's order). */
export function placementOf(node: { locality?: { region: string; zone: string; sub_zone: string }; metadata: Record<string, JsonValue> }): ProxyPlacement {
  const raw = node.metadata.LABELS;
  const labels: Record<string, string> = {};
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') labels[k] = v;
  let locality: Locality;
  if (labels[REGION_LABEL] !== undefined || labels[ZONE_LABEL] !== undefined || labels[SUBZONE_LABEL] !== undefined) {
    locality = { region: labels[REGION_LABEL] ?? '', zone: labels[ZONE_LABEL] ?? '', subZone: labels[SUBZONE_LABEL] ?? '' };
  } else if (labels[ISTIO_LOCALITY_LABEL]) {
    locality = parseLocality(labels[ISTIO_LOCALITY_LABEL].replaceAll('.', '/'));
  } else {
    locality = { region: node.locality?.region ?? '', zone: node.locality?.zone ?? '', subZone: node.locality?.sub_zone ?? '' };
  }
  return { locality, labels: withTopologyLabels(labels, locality) };
}

/**
 * What of the placement the cluster's assignment depends on: equal keys, equal assignment (so it is computed
 * once per key and shared by every proxy with it).
 */
export function placementKey(rule: LocalityRule, placement: ProxyPlacement): string {
  const distribute = rule.setting.distribute ?? [];
  if (distribute.length > 0) return `distribute:${distribute.findIndex((d) => localityMatches(placement.locality, d.from))}`;
  if (!rule.failover) return 'none';
  const priority = rule.setting.failoverPriority ?? [];
  const labels = priority.length > 0 && Object.keys(placement.labels).length > 0 ? priority.map((l) => placement.labels[priorityLabel(l).key] ?? '') : [];
  return `failover:${localityString(placement.locality)}${labels.length > 0 ? `|${JSON.stringify(labels)}` : ''}`;
}

/** The groups with the priorities and weights `rule` gives them for a proxy at `placement` (Istio's ApplyLocalityLoadBalancer). */
export function localize(groups: readonly LocalityGroup[], rule: LocalityRule, placement: ProxyPlacement): LocalityGroup[] {
  const { setting } = rule;
  if ((setting.distribute?.length ?? 0) > 0) return applyWeights(groups, setting.distribute!, placement.locality);
  if (!rule.failover) return [...groups];
  const priorityLabels = setting.failoverPriority ?? [];
  if (priorityLabels.length === 0) return applyLocalityFailover(groups, setting.failover ?? [], placement.locality);
  const byLabels = applyFailoverPriorities(groups, priorityLabels, placement.labels);
  // Region failover composes with label priorities only when asked for explicitly.
  return (setting.failover?.length ?? 0) > 0 ? applyLocalityFailover(byLabels, setting.failover!, placement.locality) : byLabels;
}

/** Istio's LocalityMatch: `rule` is `region[/zone[/subzone]]`, where `*` or a missing level matches anything. */
export function localityMatches(locality: Locality, rule: string): boolean {
  const [region = '', zone = '', subZone = ''] = rule.split('/');
  return (
    (region === '*' || region === locality.region) &&
    (zone === '*' || zone === '' || zone === locality.zone) &&
    (subZone === '*' || subZone === '' || subZone === locality.subZone)
  );
}

/**
 * The first `distribute` entry whose `from` matches the proxy: each upstream locality it names gets its percentage,
 * shared among the groups a wildcard matches by their own weights (rounded up); localities it does not name get no
 * traffic (their groups are left out). A proxy no entry matches gets the groups as they are.
 */
function applyWeights(groups: readonly LocalityGroup[], distribute: NonNullable<LocalityLoadBalancerSetting['distribute']>, proxy: Locality): LocalityGroup[] {
  const entry = distribute.find((d) => localityMatches(proxy, d.from));
  if (!entry) return [...groups];
  const weights = new Map<number, number>();
  for (const [target, percent] of Object.entries(entry.to)) {
    const matched = groups.map((g, i) => i).filter((i) => !weights.has(i) && localityMatches(groups[i]!.locality, target));
    const total = matched.reduce((sum, i) => sum + groups[i]!.weight, 0);
    for (const i of matched) {
      const share = (groups[i]!.weight * percent) / total;
      weights.set(i, share > 0 ? Math.ceil(share) : groups[i]!.weight);
    }
  }
  return groups.flatMap((g, i) => (weights.has(i) ? [{ ...g, weight: weights.get(i)! }] : []));
}

/** Istio's LbPriority: 0 same subzone, 1 same zone, 2 same region, 3 another region. */
function sharedLocality(proxy: Locality, endpoints: Locality): number {
  if (proxy.region !== endpoints.region) return 3;
  if (proxy.zone !== endpoints.zone) return 2;
  return proxy.subZone === endpoints.subZone ? 0 : 1;
}

/**
 * Priorities by locality shared with the proxy. With a `failover` entry for the proxy's region, only its `to`
 * region comes next (3) and other regions after it (4). Composes with earlier priorities (×5), then renumbers
 * them 0..N without gaps (clients reject a priority whose predecessor is missing).
 */
function applyLocalityFailover(groups: readonly LocalityGroup[], failover: NonNullable<LocalityLoadBalancerSetting['failover']>, proxy: Locality): LocalityGroup[] {
  const rule = failover.find((f) => f.from === proxy.region);
  const out = groups.map((g) => {
    let priority = sharedLocality(proxy, g.locality);
    if (priority === 3 && rule && g.locality.region !== rule.to) priority = 4;
    return { ...g, priority: g.priority * 5 + priority };
  });
  return compact(out);
}

/** `key` or `key=value`: with a value, endpoints are compared with it instead of the proxy's own label. */
function priorityLabel(text: string): { key: string; value?: string } {
  const parts = text.split('=');
  return parts.length === 2 ? { key: parts[0]!, value: parts[1]! } : { key: parts[0]! };
}

/**
 * Istio's failoverPriority: an endpoint matching the proxy on every label is priority 0; one that first differs at
 * label j (of n) is priority n - j. The network label, when first, only pushes a mismatch behind everything else.
 * Each locality splits into one group per priority. Without proxy labels, nothing changes.
 */
function applyFailoverPriorities(groups: readonly LocalityGroup[], labels: readonly string[], proxyLabels: Readonly<Record<string, string>>): LocalityGroup[] {
  if (Object.keys(proxyLabels).length === 0 || groups.length === 0) return [...groups];
  const n = labels.length;
  const parsed = labels.map(priorityLabel);
  const includesNetwork = parsed[0]?.key === NETWORK_LABEL;
  const priorityOf = (endpoint: LocalityEndpoint): number => {
    let adjust = 0;
    for (let j = 0; j < n; j++) {
      const { key, value } = parsed[j]!;
      if ((value ?? proxyLabels[key] ?? '') === (endpoint.labels[key] ?? '')) continue;
      if (j === 0 && includesNetwork) {
        adjust = n;
        continue;
      }
      return n - j + adjust;
    }
    return adjust;
  };
  const out: LocalityGroup[] = [];
  for (const g of groups) {
    const byPriority = new Map<number, LocalityEndpoint[]>();
    for (const e of g.endpoints) {
      const p = priorityOf(e);
      byPriority.set(p, [...(byPriority.get(p) ?? []), e]);
    }
    for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
      const endpoints = byPriority.get(p)!;
      out.push({ locality: g.locality, endpoints, weight: endpoints.reduce((sum, e) => sum + e.weight, 0), priority: p });
    }
  }
  return compact(out);
}

/** Renumbers priorities 0..N in their order, without gaps. */
function compact(groups: LocalityGroup[]): LocalityGroup[] {
  const order = [...new Set(groups.map((g) => g.priority))].sort((a, b) => a - b);
  const rank = new Map(order.map((p, i) => [p, i]));
  return groups.map((g) => ({ ...g, priority: rank.get(g.priority)! }));
}

/** The ClusterLoadAssignment message for `groups`. */
export function assignmentMessage(clusterName: string, groups: readonly LocalityGroup[]): ProtoMessage {
  return {
    cluster_name: clusterName,
    endpoints: groups.map((g) => ({
      locality: { region: g.locality.region, zone: g.locality.zone, sub_zone: g.locality.subZone },
      lb_endpoints: g.endpoints.map((e) => e.lbEndpoint),
      load_balancing_weight: { value: g.weight },
      ...(g.priority > 0 ? { priority: g.priority } : {}),
    })),
  };
}
