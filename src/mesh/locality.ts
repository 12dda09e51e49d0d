// Validation of DestinationRule localityLbSetting, as Istio's (pkg/config/validation/agent ValidateLocalityLbSetting):
// the rules that relate fields to each other, which the CRD schema cannot say. Each problem names its field.
import type { LocalityLoadBalancerSetting, OutlierDetection, TrafficPolicy } from '../api/index.js';
import { LOCALITY_LABELS } from './model/kubernetes.js';
import type { Problem } from './verdict.js';

/** Every localityLbSetting of a traffic policy (its own, and its port-level ones) with its field path and the outlier detection beside it. */
export function localitySettingsOf(
  policy: TrafficPolicy | undefined,
  field: string,
): Array<{ setting: LocalityLoadBalancerSetting; outlier: OutlierDetection | undefined; field: string }> {
  if (!policy) return [];
  const out: Array<{ setting: LocalityLoadBalancerSetting; outlier: OutlierDetection | undefined; field: string }> = [];
  if (policy.loadBalancer?.localityLbSetting) {
    out.push({ setting: policy.loadBalancer.localityLbSetting, outlier: policy.outlierDetection, field: `${field}.loadBalancer.localityLbSetting` });
  }
  policy.portLevelSettings?.forEach((p, i) => {
    if (p.loadBalancer?.localityLbSetting) {
      out.push({ setting: p.loadBalancer.localityLbSetting, outlier: p.outlierDetection, field: `${field}.portLevelSettings[${i}].loadBalancer.localityLbSetting` });
    }
  });
  return out;
}

/** What is wrong with `setting` (at `field`), in Istio's words where Istio has them. */
export function localityLbProblems(setting: LocalityLoadBalancerSetting, field: string): Problem[] {
  const problems: Problem[] = [];
  const problem = (at: string, message: string) => problems.push({ reason: 'InvalidLocalityLbSetting', field: `${field}${at}`, message });
  const distribute = setting.distribute ?? [];
  const failover = setting.failover ?? [];
  if (distribute.length > 0 && failover.length > 0) {
    problem('', "can not simultaneously specify 'distribute' and 'failover'");
    return problems;
  }
  if (failover.length > 0) {
    // Region, zone and subzone failover come from `failover`; naming them in failoverPriority too would conflict.
    const topology = (setting.failoverPriority ?? []).findIndex((l) => (LOCALITY_LABELS as readonly string[]).includes(l));
    if (topology >= 0) {
      problem(`.failoverPriority[${topology}]`, `can not simultaneously set 'failover' and topology label '${setting.failoverPriority![topology]}' in 'failoverPriority'`);
    }
  }
  distribute.forEach((d, i) => {
    const weights = Object.values(d.to);
    const bad = Object.entries(d.to).find(([, w]) => !Number.isInteger(w) || w < 1 || w > 100);
    if (bad) problem(`.distribute[${i}].to[${bad[0]}]`, `locality weight must be in range [1, 100], got ${bad[1]}`);
    const total = weights.reduce((a, b) => a + b, 0);
    if (total !== 100) problem(`.distribute[${i}].to`, `total locality weight ${total} != 100`);
    const overlap = localitiesProblem(Object.keys(d.to));
    if (overlap) problem(`.distribute[${i}].to`, overlap);
  });
  const overlap = localitiesProblem(distribute.map((d) => d.from));
  if (overlap) problem('.distribute', overlap.replace('locality', 'from locality'));
  failover.forEach((f, i) => {
    if (f.from === f.to) problem(`.failover[${i}]`, 'locality lb failover settings must specify different regions');
    if (f.from.includes('/') || f.to.includes('/')) problem(`.failover[${i}]`, 'locality lb failover only specify region');
    if (f.from.includes('*') || f.to.includes('*')) problem(`.failover[${i}]`, "locality lb failover region should not contain '*' wildcard");
  });
  (setting.failoverPriority ?? []).forEach((l, i) => {
    if (l.split('=').length > 2 || l.startsWith('=')) problem(`.failoverPriority[${i}]`, `'${l}' must be a label key or key=value`);
  });
  return problems;
}

/** Failover without outlier detection never fails over (the proxy has no way to see an endpoint is unhealthy): Istio warns. */
export function localityLbWarning(setting: LocalityLoadBalancerSetting, outlier: OutlierDetection | undefined, field: string): string | undefined {
  if (outlier || setting.enabled === false) return undefined;
  if ((setting.failover?.length ?? 0) === 0 && (setting.failoverPriority?.length ?? 0) === 0) return undefined;
  return `${field}: outlier detection policy must be provided for failover (without outlierDetection, failover and failoverPriority have no effect)`;
}

/**
 * Istio's validateLocalities: each `region[/zone[/subzone]]` non-empty at every level, at most one `*` and only at
 * the end, and no locality overlapping an earlier one (the same one, or one inside a region or zone already named).
 */
export function localitiesProblem(localities: readonly string[]): string | undefined {
  const seen = new Map<string, Map<string, Set<string>>>();
  for (const locality of localities) {
    const stars = locality.split('*').length - 1;
    if (stars > 1 || (stars === 1 && !locality.endsWith('*'))) return `locality ${locality} wildcard '*' number can not exceed 1 and must be in the end`;
    if (seen.has('*')) return `locality ${locality} overlap with previous specified ones`;
    const items = locality.split('/', 3);
    if (locality.split('/').length > 3 || items.some((i) => i === '')) return `locality ${locality} must not contain empty region/zone/subzone info`;
    const [region = '', zone, subZone] = items;
    const zones = seen.get(region);
    const overlap = `locality ${locality} overlap with previous specified ones`;
    if (zone === undefined) {
      if (zones) return overlap;
      seen.set(region, new Map([['*', new Set(['*'])]]));
    } else if (subZone === undefined) {
      if (zones?.has('*') || zones?.has(zone)) return overlap;
      if (zones) zones.set(zone, new Set(['*']));
      else seen.set(region, new Map([[zone, new Set(['*'])]]));
    } else {
      if (zones?.has('*')) return overlap;
      const subZones = zones?.get(zone);
      if (subZones?.has('*') || subZones?.has(subZone)) return overlap;
      if (subZones) subZones.add(subZone);
      else if (zones) zones.set(zone, new Set([subZone]));
      else seen.set(region, new Map([[zone, new Set([subZone])]]));
    }
  }
  return undefined;
}
