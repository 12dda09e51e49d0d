// MeshLookup answered from the informer caches, through their indexes where a scan would be per-object.
import type { ServiceEntry } from '../api/index.js';
import { hostMatches } from '../mesh/hosts.js';
import type { MeshLookup } from '../mesh/lookup.js';
import { Index, type MeshInformers } from './informers.js';

export function informerLookup(informers: MeshInformers): MeshLookup {
  return {
    service: (ns, name) => informers.services.get(ns, name),
    serviceAccount: (ns, name) => informers.serviceAccounts.get(ns, name),
    serviceEntriesForHost: (fqdn) => {
      const exact = informers.serviceEntries.byIndex(Index.host, fqdn);
      // Wildcard hosts (`*.example.com`) cannot be looked up by name: the entries that have one are indexed apart
      // (scanning every entry here was the largest cost of a push with 1000 services).
      const wildcard = informers.serviceEntries
        .byIndex(Index.wildcardHost, '*')
        .filter((se: ServiceEntry) => !exact.includes(se) && se.spec.hosts.some((h) => h.includes('*') && hostMatches(h, fqdn)));
      return [...exact, ...wildcard];
    },
    destinationRulesForHost: (fqdn) => informers.destinationRules.byIndex(Index.host, fqdn),
    gateway: (ns, name) => informers.gateways.get(ns, name),
    gateways: () => informers.gateways.list(),
    workloadEntries: (ns) => informers.workloadEntries.list(ns),
    serviceEntries: (ns) => informers.serviceEntries.list(ns),
    meshPolicies: (ns) => informers.meshPolicies.list(ns),
    virtualServices: () => informers.virtualServices.list(),
  };
}
