// What the model reads about the cluster. The operator answers from informer caches (src/xds/wiring), tests from
// plain arrays (memoryInputs). Validation goes through MeshLookup, the same one the reconcilers use, so the model
// includes exactly the resources whose status says Accepted.
import type { ServiceEntry, VirtualService, WorkloadEntry } from '../../api/index.js';
import { qualifyHost } from '../hosts.js';
import { memoryLookup, type MeshLookup, type MeshObjects } from '../lookup.js';
import { destinationsOf, gatewaysOf } from '../virtualservice.js';
import { serviceOfSlice, type EndpointSlice, type KubernetesService } from './kubernetes.js';

export interface ModelInputs {
  lookup: MeshLookup;
  /** Every ServiceEntry (for full rebuilds). */
  allServiceEntries(): ServiceEntry[];
  /** Every Kubernetes Service (for full rebuilds). */
  allServices(): KubernetesService[];
  /** The EndpointSlices of Service `namespace/name` (labelled `kubernetes.io/service-name`). */
  endpointSlicesForService(namespace: string, name: string): EndpointSlice[];
  /** VirtualServices with `fqdn` among their (qualified) hosts. */
  virtualServicesForHost(fqdn: string): VirtualService[];
  /** VirtualServices that send traffic to `fqdn` (their validity depends on it). */
  virtualServicesRoutingTo(fqdn: string): VirtualService[];
  /** VirtualServices bound to Gateway `namespace/name`. */
  virtualServicesForGateway(ref: string): VirtualService[];
  /** WorkloadEntries running as ServiceAccount `namespace/name`. */
  workloadEntriesForServiceAccount(ref: string): WorkloadEntry[];
}

/** The qualified, concrete hosts a VirtualService routes for. */
export function routedHosts(vs: VirtualService): string[] {
  return vs.spec.hosts.map((h) => qualifyHost(h, vs.metadata.namespace!)).filter((h) => !h.includes('*'));
}

/** Inputs over plain arrays (linear scans), for tests and tools. */
export function memoryInputs(objects: MeshObjects & { endpointSlices?: EndpointSlice[] }): ModelInputs {
  const vss = () => objects.virtualServices ?? [];
  return {
    lookup: memoryLookup(objects, qualifyHost),
    allServiceEntries: () => objects.serviceEntries ?? [],
    allServices: () => objects.services ?? [],
    endpointSlicesForService: (namespace, name) =>
      (objects.endpointSlices ?? []).filter((slice) => {
        const svc = serviceOfSlice(slice);
        return svc?.namespace === namespace && svc.name === name;
      }),
    virtualServicesForHost: (fqdn) => vss().filter((vs) => routedHosts(vs).includes(fqdn)),
    virtualServicesRoutingTo: (fqdn) =>
      vss().filter((vs) => destinationsOf(vs).some((d) => qualifyHost(d.destination.host, vs.metadata.namespace!) === fqdn)),
    virtualServicesForGateway: (ref) => vss().filter((vs) => gatewaysOf(vs).some((g) => g.ref === ref)),
    workloadEntriesForServiceAccount: (ref) =>
      (objects.workloadEntries ?? []).filter((we) => `${we.metadata.namespace}/${we.spec.serviceAccount}` === ref),
  };
}
