// What the model reads about the cluster. The operator answers from the mesh state's informers
// (src/mesh/state/inputs.ts), tests from plain arrays (memoryInputs). Each object is read in its served form
// (src/mesh/served.ts): the current generation if accepted, else the last accepted one, else not at all.
import type { AnyMeshObject, DestinationRule, ServiceEntry, VirtualService } from '../../api/index.js';
import { dependentKey, keyMatches, referencesOf, type Dependent } from '../dependencies.js';
import { qualifyHost } from '../hosts.js';
import { memoryLookup, type MeshLookup, type MeshObjects } from '../lookup.js';
import { servedForm, verdictOf } from '../served.js';
import { destinationsOf, gatewaysOf } from '../virtualservice.js';
import { serviceOfSlice, type EndpointSlice, type KubernetesService, type NodeMeta, type PodMeta } from './kubernetes.js';

export { routedHosts } from '../dependencies.js';

export interface ModelInputs {
  lookup: MeshLookup;
  /** The generation of `obj` that is served, as an object; undefined when none is (never accepted). */
  served<T extends AnyMeshObject>(obj: T): T | undefined;
  /** Objects that refer to dependency key `key` (src/mesh/dependencies.ts). */
  referrers(key: string): Dependent[];
  /** Every ServiceEntry (for full rebuilds). */
  allServiceEntries(): ServiceEntry[];
  /** Every Kubernetes Service (for full rebuilds). */
  allServices(): KubernetesService[];
  /** ServiceEntries that may declare `fqdn` in their served form (callers check the served spec). */
  serviceEntryCandidates(fqdn: string): ServiceEntry[];
  /** DestinationRules that may configure `fqdn` in their served form (callers check the served spec). */
  destinationRuleCandidates(fqdn: string): DestinationRule[];
  /** The EndpointSlices of Service `namespace/name` (labelled `kubernetes.io/service-name`). */
  endpointSlicesForService(namespace: string, name: string): EndpointSlice[];
  /** A Pod (stripped: labels, ServiceAccount, Node), for the endpoints that name it. */
  pod(namespace: string, name: string): PodMeta | undefined;
  /** A Node (stripped: locality labels). */
  node(name: string): NodeMeta | undefined;
  /** VirtualServices that may route for `fqdn` in their served form (callers check the served spec). */
  virtualServicesForHost(fqdn: string): VirtualService[];
  /** VirtualServices that send traffic to `fqdn`. */
  virtualServicesRoutingTo(fqdn: string): VirtualService[];
  /** VirtualServices bound to Gateway `namespace/name`. */
  virtualServicesForGateway(ref: string): VirtualService[];
}

/** Inputs over plain arrays (linear scans, verdicts computed on every read), for tests and tools. */
export function memoryInputs(objects: MeshObjects & { endpointSlices?: EndpointSlice[]; pods?: PodMeta[]; nodes?: NodeMeta[] }): ModelInputs {
  const lookup = memoryLookup(objects, qualifyHost);
  const vss = () => objects.virtualServices ?? [];
  const all = (): Dependent[] => [
    ...vss().map((obj) => ({ kind: 'VirtualService' as const, obj })),
    ...(objects.destinationRules ?? []).map((obj) => ({ kind: 'DestinationRule' as const, obj })),
    ...(objects.gateways ?? []).map((obj) => ({ kind: 'Gateway' as const, obj })),
    ...(objects.serviceEntries ?? []).map((obj) => ({ kind: 'ServiceEntry' as const, obj })),
    ...(objects.workloadEntries ?? []).map((obj) => ({ kind: 'WorkloadEntry' as const, obj })),
    ...(objects.meshPolicies ?? []).map((obj) => ({ kind: 'MeshPolicy' as const, obj })),
    ...(objects.services ?? []).map((obj) => ({ kind: 'Service' as const, obj })),
    ...(objects.endpointSlices ?? []).map((obj) => ({ kind: 'EndpointSlice' as const, obj })),
  ];
  return {
    lookup,
    served: (obj) => servedForm(obj, verdictOf(obj, lookup)),
    referrers: (key) => {
      const found = new Map<string, Dependent>();
      for (const d of all()) if (referencesOf(d).some((r) => keyMatches(key, r))) found.set(dependentKey(d), d);
      return [...found.values()];
    },
    allServiceEntries: () => objects.serviceEntries ?? [],
    allServices: () => objects.services ?? [],
    // Candidates are every object: the caller checks the served spec (which may be a last accepted one).
    serviceEntryCandidates: () => objects.serviceEntries ?? [],
    destinationRuleCandidates: () => objects.destinationRules ?? [],
    endpointSlicesForService: (namespace, name) =>
      (objects.endpointSlices ?? []).filter((slice) => {
        const svc = serviceOfSlice(slice);
        return svc?.namespace === namespace && svc.name === name;
      }),
    pod: (namespace, name) => objects.pods?.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name),
    node: (name) => objects.nodes?.find((n) => n.metadata?.name === name),
    virtualServicesForHost: () => vss(),
    virtualServicesRoutingTo: (fqdn) =>
      vss().filter((vs) => destinationsOf(vs).some((d) => qualifyHost(d.destination.host, vs.metadata.namespace!) === fqdn)),
    virtualServicesForGateway: (ref) => vss().filter((vs) => gatewaysOf(vs).some((g) => g.ref === ref)),
  };
}
