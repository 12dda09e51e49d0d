// DestinationRule validation: the host resolves, and localityLbSettings follow Istio's rules. (Which rule configures a host when several do is a conflict,
// src/mesh/model/conflicts.ts, not a verdict.)
import type { DestinationRule } from '../api/index.js';
import { qualifyHost } from './hosts.js';
import { localitySettingsOf, localityLbProblems, localityLbWarning } from './locality.js';
import type { MeshLookup } from './lookup.js';
import { verdict, type Problem, type Verdict } from './verdict.js';
import { hostExists } from './virtualservice.js';

export function validateDestinationRule(dr: DestinationRule, lookup: MeshLookup): Verdict {
  const ns = dr.metadata.namespace!;
  const fqdn = qualifyHost(dr.spec.host, ns);
  const problems: Problem[] = [];
  if (!hostExists(fqdn, lookup)) {
    problems.push({ reason: 'HostNotFound', field: 'spec.host', message: `no Service or ServiceEntry declares host ${fqdn}` });
  }
  const localities = [
    ...localitySettingsOf(dr.spec.trafficPolicy, 'spec.trafficPolicy'),
    ...(dr.spec.subsets ?? []).flatMap((s, i) => localitySettingsOf(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`)),
  ];
  for (const { setting, field } of localities) problems.push(...localityLbProblems(setting, field));
  const warnings = localities.flatMap(({ setting, outlier, field }) => localityLbWarning(setting, outlier, field) ?? []);
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
