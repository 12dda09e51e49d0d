// DestinationRule validation: the host resolves, and localityLbSettings follow Istio's rules. (Which rule configures a host when several do is a conflict,
// src/mesh/model/conflicts.ts, not a verdict.)
import type { DestinationRule, LoadBalancerSettings, TrafficPolicy } from '../api/index.js';
import { qualifyHost } from './hosts.js';
import { localitySettingsOf, localityLbProblems, localityLbWarning } from './locality.js';
import type { MeshLookup } from './lookup.js';
import { verdict, type Problem, type Verdict } from './verdict.js';
import { hostExists, hostNotFound } from './virtualservice.js';

export function validateDestinationRule(dr: DestinationRule, lookup: MeshLookup): Verdict {
  const ns = dr.metadata.namespace!;
  const fqdn = qualifyHost(dr.spec.host, ns);
  const problems: Problem[] = [];
  if (!hostExists(fqdn, lookup)) {
    problems.push({ reason: 'HostNotFound', field: 'spec.host', message: hostNotFound(fqdn, lookup) });
  }
  const localities = [
    ...localitySettingsOf(dr.spec.trafficPolicy, 'spec.trafficPolicy'),
    ...(dr.spec.subsets ?? []).flatMap((s, i) => localitySettingsOf(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`)),
  ];
  for (const { setting, field } of localities) problems.push(...localityLbProblems(setting, field));
  const warnings = localities.flatMap(({ setting, outlier, field }) => localityLbWarning(setting, outlier, field) ?? []);
  problems.push(...loadBalancerProblems(dr));
  const subsets = dr.spec.subsets?.map((s) => s.name).join(', ');
  const notes = warnings.map((w) => `; ${w}`).join('');
  return verdict(problems, `configures host ${fqdn}${subsets ? ` with subsets ${subsets}` : ''}${originationNote(dr)}${notes}`);
}

/**
 * TLS origination (tls SIMPLE or MUTUAL) reaches Envoy sidecars only: a proxyless gRPC client's TLS comes from its
 * bootstrap's certificate providers (the mesh's), not from files a DestinationRule names. Said, not refused.
 */
function originationNote(dr: DestinationRule): string {
  const policies = [dr.spec.trafficPolicy, ...(dr.spec.subsets ?? []).map((s) => s.trafficPolicy)];
  const settings = policies.flatMap((p) => [p?.tls, ...(p?.portLevelSettings ?? []).map((l) => l.tls)]);
  const modes = settings.map((t) => t?.mode).filter((m) => m === 'SIMPLE' || m === 'MUTUAL');
  if (modes.length === 0) return '';
  const credential = settings.some((t) => t?.credentialName) ? '; tls.credentialName is for gateways and is not used by sidecars (name the files instead)' : '';
  return `; TLS origination (tls ${[...new Set(modes)].join('/')}) applies to Envoy sidecars only: proxyless gRPC clients cannot originate it${credential}`;
}

/** Every load balancer setting of a rule, with the field path it is written at. */
function loadBalancersOf(dr: DestinationRule): Array<{ field: string; lb: LoadBalancerSettings }> {
  const out: Array<{ field: string; lb: LoadBalancerSettings }> = [];
  const policy = (at: string, p: TrafficPolicy | undefined) => {
    if (p?.loadBalancer) out.push({ field: `${at}.loadBalancer`, lb: p.loadBalancer });
    p?.portLevelSettings?.forEach((l, i) => l.loadBalancer && out.push({ field: `${at}.portLevelSettings[${i}].loadBalancer`, lb: l.loadBalancer }));
  };
  policy('spec.trafficPolicy', dr.spec.trafficPolicy);
  dr.spec.subsets?.forEach((s, i) => policy(`spec.subsets[${i}].trafficPolicy`, s.trafficPolicy));
  return out;
}

/**
 * Istio's rules that a CEL rule cannot afford at this depth (subsets x port-level settings x list x list costs more
 * than the API server allows): unique cookie attribute names, and zone aware failover between two distinct regions.
 */
function loadBalancerProblems(dr: DestinationRule): Problem[] {
  const problems: Problem[] = [];
  for (const { field, lb } of loadBalancersOf(dr)) {
    const seen = new Set<string>();
    lb.consistentHash?.httpCookie?.attributes?.forEach((a, i) => {
      if (seen.has(a.name)) {
        problems.push({ reason: 'DuplicateCookieAttribute', field: `${field}.consistentHash.httpCookie.attributes[${i}].name`, message: `duplicate cookie attribute name ${a.name}` });
      }
      seen.add(a.name);
    });
    lb.zoneAwareLbSetting?.failover?.forEach((f, i) => {
      const at = `${field}.zoneAwareLbSetting.failover[${i}]`;
      const from = f.from ?? '';
      const to = f.to ?? '';
      if (from === to) problems.push({ reason: 'InvalidFailover', field: at, message: 'zone aware lb failover settings must specify different regions' });
      if (from.includes('/') || to.includes('/')) {
        problems.push({ reason: 'InvalidFailover', field: at, message: 'zone aware lb failover only specifies region (zone and subzone failover are handled automatically)' });
      }
      if (from.includes('*') || to.includes('*')) problems.push({ reason: 'InvalidFailover', field: at, message: "zone aware lb failover region should not contain '*' wildcard" });
    });
  }
  return problems;
}
