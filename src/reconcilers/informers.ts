// The informers the mesh reconcilers share, with the indexes their cross-watches need. Every replica runs
// them (they feed xDS too); only the leader's reconcilers write.
import type { V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { resources as meshResources, type DestinationRule, type Gateway, type MeshPolicy, type ServiceEntry, type VirtualService, type WorkloadEntry } from '../api/index.js';
import { resources as coreResources, type Informer, type Json, type KubeObject, type Manager, type ResourceType } from '../controllers/index.js';
import { qualifyHost } from '../mesh/hosts.js';
import { labelsKey } from '../mesh/labels.js';
import { SERVICE_NAME_LABEL, serviceOfSlice, type EndpointSlice } from '../mesh/model/kubernetes.js';
import { destinationsOf, gatewaysOf } from '../mesh/virtualservice.js';

export type Service = Json<V1Service>;
export type ServiceAccount = Json<V1ServiceAccount>;
export type { EndpointSlice };

const serviceAccountsResource: ResourceType = { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true };

export interface MeshInformers {
  virtualServices: Informer<VirtualService>;
  destinationRules: Informer<DestinationRule>;
  gateways: Informer<Gateway>;
  serviceEntries: Informer<ServiceEntry>;
  workloadEntries: Informer<WorkloadEntry>;
  meshPolicies: Informer<MeshPolicy>;
  services: Informer<Service>;
  /** Only the slices that belong to a Service (labelled kubernetes.io/service-name): those are mesh endpoints. */
  endpointSlices: Informer<EndpointSlice>;
  serviceAccounts: Informer<ServiceAccount>;
}

/** Index names, each answering "which objects refer to X?" for the watches that map X to them. */
export const Index = {
  /** VirtualService -> each qualified destination host; DestinationRule -> its qualified host; ServiceEntry -> its hosts. */
  host: 'host',
  /** VirtualService -> each `namespace/name` of a Gateway it binds to. */
  gateway: 'gateway',
  /** Gateway -> the label selector of its workload. */
  workload: 'workload',
  /** WorkloadEntry -> `namespace/serviceAccount`. */
  serviceAccount: 'serviceAccount',
  /** ServiceEntry -> `*` when one of its hosts is a wildcard (they cannot be looked up by name). */
  wildcardHost: 'wildcardHost',
  /** EndpointSlice -> `namespace/name` of its Service. */
  service: 'service',
} as const;

export function meshInformers(manager: Manager): MeshInformers {
  const informers: MeshInformers = {
    virtualServices: manager.informer<VirtualService>({ resource: meshResources.VirtualService }),
    destinationRules: manager.informer<DestinationRule>({ resource: meshResources.DestinationRule }),
    gateways: manager.informer<Gateway>({ resource: meshResources.Gateway }),
    serviceEntries: manager.informer<ServiceEntry>({ resource: meshResources.ServiceEntry }),
    workloadEntries: manager.informer<WorkloadEntry>({ resource: meshResources.WorkloadEntry }),
    meshPolicies: manager.informer<MeshPolicy>({ resource: meshResources.MeshPolicy }),
    services: manager.informer<Service>({ resource: coreResources.services }),
    endpointSlices: manager.informer<EndpointSlice>({ resource: coreResources.endpointSlices, labelSelector: SERVICE_NAME_LABEL }),
    serviceAccounts: manager.informer<ServiceAccount>({ resource: serviceAccountsResource }),
  };
  informers.virtualServices.addIndex(Index.host, (vs) => [
    ...new Set(destinationsOf(vs).map((d) => qualifyHost(d.destination.host, vs.metadata.namespace!))),
  ]);
  informers.virtualServices.addIndex(Index.gateway, (vs) => [...new Set(gatewaysOf(vs).map((g) => g.ref))]);
  informers.destinationRules.addIndex(Index.host, (dr) => [qualifyHost(dr.spec.host, dr.metadata.namespace!)]);
  informers.serviceEntries.addIndex(Index.host, (se) => se.spec.hosts);
  informers.serviceEntries.addIndex(Index.wildcardHost, (se) => (se.spec.hosts.some((h) => h.includes('*')) ? ['*'] : []));
  informers.gateways.addIndex(Index.workload, (gw) => [labelsKey(gw.spec.selector)]);
  informers.workloadEntries.addIndex(Index.serviceAccount, (we) =>
    we.spec.serviceAccount ? [`${we.metadata.namespace}/${we.spec.serviceAccount}`] : [],
  );
  informers.endpointSlices.addIndex(Index.service, (slice) => {
    const svc = serviceOfSlice(slice);
    return svc ? [`${svc.namespace}/${svc.name}`] : [];
  });
  return informers;
}

/**
 * Objects of `informer` that refer to `host` through the host index. A wildcard host (`*.example.com`) may be
 * what any of them refers to, so it maps to all of them; level-triggered reconciles make the extra work harmless.
 */
export function referringToHost<T extends KubeObject>(informer: Informer<T>, host: string): T[] {
  return host.includes('*') ? informer.list() : informer.byIndex(Index.host, host);
}
