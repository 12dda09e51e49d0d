// VirtualService validation: nothing a proxy would reject (proxy-rules.ts), every destination's host resolves, every subset is defined
// by the host's DestinationRule, every gateway named exists.
import type { Destination, VirtualService } from '../api/index.js';
import { isDelegate, rootsOf } from './delegation.js';
import { CLUSTER_DOMAIN, qualifyHost, serviceOfHost } from './hosts.js';
import type { MeshLookup } from './lookup.js';
import { proxyRuleProblems } from './proxy-rules.js';
import { olderFirst, refOf, verdict, type Problem, type Verdict } from './verdict.js';

/** Every destination a VirtualService sends traffic to, with the field path it is written at. */
export function destinationsOf(vs: VirtualService): Array<{ field: string; destination: Destination }> {
  const out: Array<{ field: string; destination: Destination }> = [];
  vs.spec.http?.forEach((route, i) => {
    route.route?.forEach((r, j) => out.push({ field: `spec.http[${i}].route[${j}].destination`, destination: r.destination }));
    if (route.mirror) out.push({ field: `spec.http[${i}].mirror`, destination: route.mirror });
    route.mirrors?.forEach((m, j) => out.push({ field: `spec.http[${i}].mirrors[${j}].destination`, destination: m.destination }));
  });
  vs.spec.tcp?.forEach((route, i) =>
    route.route.forEach((r, j) => out.push({ field: `spec.tcp[${i}].route[${j}].destination`, destination: r.destination })),
  );
  vs.spec.tls?.forEach((route, i) =>
    route.route.forEach((r, j) => out.push({ field: `spec.tls[${i}].route[${j}].destination`, destination: r.destination })),
  );
  return out;
}

/** A gateway as a VirtualService in `namespace` names it (`name` or `namespace/name`), as `namespace/name`. */
export function qualifyGatewayName(name: string, namespace: string): string {
  return name.includes('/') ? name : `${namespace}/${name}`;
}

/** Gateways a VirtualService binds to, as `namespace/name` (the reserved `mesh` excluded), with field paths. */
export function gatewaysOf(vs: VirtualService): Array<{ field: string; ref: string }> {
  const ns = vs.metadata.namespace!;
  const out: Array<{ field: string; ref: string }> = [];
  vs.spec.gateways?.forEach((g, i) => g !== 'mesh' && out.push({ field: `spec.gateways[${i}]`, ref: qualifyGatewayName(g, ns) }));
  vs.spec.http?.forEach((route, i) =>
    route.match?.forEach((m, j) =>
      m.gateways?.forEach((g, k) => g !== 'mesh' && out.push({ field: `spec.http[${i}].match[${j}].gateways[${k}]`, ref: qualifyGatewayName(g, ns) })),
    ),
  );
  return out;
}

/**
 * Whether a fully qualified host is a mesh service: a Kubernetes Service (not ExternalName: that is a DNS alias,
 * with no endpoints for the mesh to route to) or declared by a ServiceEntry.
 */
export function hostExists(fqdn: string, lookup: MeshLookup): boolean {
  const svc = serviceOfHost(fqdn);
  const service = svc ? lookup.service(svc.namespace, svc.name) : undefined;
  if (service && service.spec?.type !== 'ExternalName') return true;
  return lookup.serviceEntriesForHost(fqdn).length > 0;
}

/** Why `fqdn` names nothing, with a hint for `name.namespace` (Istio, and Weft, take it as written). */
export function hostNotFound(fqdn: string, lookup: MeshLookup): string {
  const service = `${fqdn}.svc.${CLUSTER_DOMAIN}`;
  const hint = fqdn.split('.').length === 2 && hostExists(service, lookup) ? `; a host with a dot is taken as written: did you mean ${service}?` : '';
  return `no Service or ServiceEntry declares host ${fqdn}${hint}`;
}

export function validateVirtualService(vs: VirtualService, lookup: MeshLookup): Verdict {
  const ns = vs.metadata.namespace!;
  const problems: Problem[] = proxyRuleProblems(vs);
  for (const { field, destination } of destinationsOf(vs)) {
    const fqdn = qualifyHost(destination.host, ns);
    if (!hostExists(fqdn, lookup)) {
      problems.push({ reason: 'HostNotFound', field: `${field}.host`, message: hostNotFound(fqdn, lookup) });
      continue;
    }
    if (destination.subset === undefined) continue;
    const rule = lookup.destinationRulesForHost(fqdn).sort(olderFirst)[0];
    if (!rule) {
      problems.push({
        reason: 'SubsetNotFound',
        field: `${field}.subset`,
        message: `subset ${destination.subset} of host ${fqdn} is not defined: no DestinationRule for host ${fqdn}`,
      });
    } else if (!rule.spec.subsets?.some((s) => s.name === destination.subset)) {
      const known = rule.spec.subsets?.map((s) => s.name).join(', ') || 'none';
      problems.push({
        reason: 'SubsetNotFound',
        field: `${field}.subset`,
        message: `subset ${destination.subset} is not defined in DestinationRule ${refOf(rule)} (subsets: ${known})`,
      });
    }
  }
  for (const { field, ref } of gatewaysOf(vs)) {
    const [gwNs, gwName] = ref.split('/') as [string, string];
    if (!lookup.gateway(gwNs, gwName)) problems.push({ reason: 'GatewayNotFound', field, message: `Gateway ${ref} not found` });
  }
  const routes = (vs.spec.http?.length ?? 0) + (vs.spec.tcp?.length ?? 0) + (vs.spec.tls?.length ?? 0);
  if (isDelegate(vs)) {
    const roots = rootsOf(vs, lookup.virtualServices());
    const use = roots.length > 0 ? `used by ${roots.join(', ')}` : 'not used: no root VirtualService that it is exported to delegates to it';
    return verdict(problems, `delegate with ${routes} http route(s); all destinations resolved; ${use}`);
  }
  return verdict(problems, `${routes} route(s) for ${(vs.spec.hosts ?? []).join(', ')}; all destinations resolved`);
}
