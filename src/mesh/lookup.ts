// What validation needs to know about the rest of the mesh. Reconcilers answer it from informer caches
// (src/reconcilers/lookup.ts); unit tests answer it from plain arrays (memoryLookup below).
import type { V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import type { Json } from '../controllers/object.js';
import type { DestinationRule, Gateway, MeshPolicy, ServiceEntry, VirtualService, WorkloadEntry } from '../api/index.js';
import { hostMatches } from './hosts.js';

export interface MeshLookup {
  service(namespace: string, name: string): Json<V1Service> | undefined;
  serviceAccount(namespace: string, name: string): Json<V1ServiceAccount> | undefined;
  /** ServiceEntries declaring a host that matches `fqdn`. */
  serviceEntriesForHost(fqdn: string): ServiceEntry[];
  /** DestinationRules whose (qualified) host is exactly `fqdn`. */
  destinationRulesForHost(fqdn: string): DestinationRule[];
  gateway(namespace: string, name: string): Gateway | undefined;
  gateways(): Gateway[];
  workloadEntries(namespace: string): WorkloadEntry[];
  serviceEntries(namespace: string): ServiceEntry[];
  meshPolicies(namespace: string): MeshPolicy[];
  virtualServices(): VirtualService[];
  virtualService(namespace: string, name: string): VirtualService | undefined;
}

export interface MeshObjects {
  services?: Array<Json<V1Service>>;
  serviceAccounts?: Array<Json<V1ServiceAccount>>;
  serviceEntries?: ServiceEntry[];
  destinationRules?: DestinationRule[];
  gateways?: Gateway[];
  workloadEntries?: WorkloadEntry[];
  meshPolicies?: MeshPolicy[];
  virtualServices?: VirtualService[];
}

/** A lookup over plain arrays: linear scans, for tests and small tools. */
export function memoryLookup(objects: MeshObjects, qualify: (host: string, namespace: string) => string): MeshLookup {
  const inNs = <T extends { metadata?: { namespace?: string } }>(list: T[] | undefined, ns: string) =>
    (list ?? []).filter((o) => o.metadata?.namespace === ns);
  const named = <T extends { metadata?: { namespace?: string; name?: string } }>(list: T[] | undefined, ns: string, name: string) =>
    (list ?? []).find((o) => o.metadata?.namespace === ns && o.metadata?.name === name);
  return {
    service: (ns, name) => named(objects.services, ns, name),
    serviceAccount: (ns, name) => named(objects.serviceAccounts, ns, name),
    serviceEntriesForHost: (fqdn) => (objects.serviceEntries ?? []).filter((se) => se.spec.hosts.some((h) => hostMatches(h, fqdn))),
    destinationRulesForHost: (fqdn) =>
      (objects.destinationRules ?? []).filter((dr) => qualify(dr.spec.host, dr.metadata.namespace!) === fqdn),
    gateway: (ns, name) => named(objects.gateways, ns, name),
    gateways: () => objects.gateways ?? [],
    workloadEntries: (ns) => inNs(objects.workloadEntries, ns),
    serviceEntries: (ns) => inNs(objects.serviceEntries, ns),
    meshPolicies: (ns) => inNs(objects.meshPolicies, ns),
    virtualServices: () => objects.virtualServices ?? [],
    virtualService: (ns, name) => named(objects.virtualServices, ns, name),
  };
}
