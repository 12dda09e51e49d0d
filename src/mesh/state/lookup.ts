// MeshLookup answered from the informer caches, through their indexes where a scan would be per-object. Validation
// reads objects as they are now: index hits that match only by a last accepted spec are filtered out.
import type { ServiceEntry } from '../../api/index.js';
import { hostMatches, qualifyHost } from '../hosts.js';
import type { MeshLookup } from '../lookup.js';
import { Index, type MeshInformers } from './informers.js';

/** ServiceEntries whose hosts (current or last accepted) match `fqdn`: exact ones by index, wildcard ones apart. */
export function serviceEntryCandidates(informers: MeshInformers, fqdn: string): ServiceEntry[] {
  const exact = informers.serviceEntries.byIndex(Index.host, fqdn);
  // Wildcard hosts (`*.example.com`) cannot be looked up by name: the entries that have one are indexed apart
  // (scanning every entry here was the largest cost of a push with 1000 services).
  const wildcard = informers.serviceEntries.byIndex(Index.wildcardHost, '*').filter((se: ServiceEntry) => !exact.includes(se));
  return [...exact, ...wildcard];
}

export function informerLookup(informers: MeshInformers): MeshLookup {
  return {
    service: (ns, name) => informers.services.get(ns, name),
    serviceAccount: (ns, name) => informers.serviceAccounts.get(ns, name),
    serviceEntriesForHost: (fqdn) => serviceEntryCandidates(informers, fqdn).filter((se) => se.spec.hosts.some((h) => hostMatches(h, fqdn))),
    destinationRulesForHost: (fqdn) =>
      informers.destinationRules.byIndex(Index.host, fqdn).filter((dr) => qualifyHost(dr.spec.host, dr.metadata.namespace!) === fqdn),
    gateway: (ns, name) => informers.gateways.get(ns, name),
    gateways: () => informers.gateways.list(),
    workloadEntries: (ns) => informers.workloadEntries.list(ns),
    serviceEntries: (ns) => informers.serviceEntries.list(ns),
    meshPolicies: (ns) => informers.meshPolicies.list(ns),
    virtualServices: () => informers.virtualServices.list(),
    virtualService: (ns, name) => informers.virtualServices.get(ns, name),
  };
}
