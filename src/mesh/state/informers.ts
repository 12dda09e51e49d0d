// The informers of the mesh state, with the indexes its lookups and declared dependencies need. Every replica runs
// them: they feed the reconcilers (only the leader's write) and the xDS pipeline alike.
//
// Indexes cover an object's current spec and its last accepted one: while a newer generation is not accepted, the
// object is still found where its served generation puts it (the host it used to route for, say).
import type { V1Service } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { resources as meshResources, type AnyMeshObject, type DestinationRule, type Gateway, type MeshPolicy, type ServiceEntry, type VirtualService, type WorkloadEntry } from '../../api/index.js';
import { resources as coreResources, withoutBookkeeping, type Informer, type InformerSpec, type Json, type KubeObject, type Manager, type UpdatePredicate } from '../../controllers/index.js';
import { mentionsOf, referencesOf, routedHosts, type Dependent, type DependencyKind, type ServiceAccount } from '../dependencies.js';
import { qualifyHost } from '../hosts.js';
import { SERVICE_NAME_LABEL, serviceOfSlice, stripNode, stripPod, type EndpointSlice, type NodeMeta, type PodMeta } from '../model/kubernetes.js';
import { servedFrom, type LastAccepted } from '../served.js';
import { destinationsOf, gatewaysOf } from '../virtualservice.js';

export type Service = Json<V1Service>;
export type { EndpointSlice, ServiceAccount };


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
  /** Every Pod, stripped to its labels, ServiceAccount and Node: endpoints from slices carry them. */
  pods: Informer<PodMeta>;
  /** Every Node, stripped to its locality labels. */
  nodes: Informer<NodeMeta>;
}

/** Index names. */
export const Index = {
  /** Every kind -> the dependency keys it refers to (src/mesh/dependencies.ts). */
  references: 'references',
  /** Every kind -> the dependency keys only its status message reads. */
  mentions: 'mentions',
  /** VirtualService -> each qualified destination host; DestinationRule -> its qualified host; ServiceEntry -> its hosts. */
  host: 'host',
  /** VirtualService -> the qualified concrete hosts it routes for. */
  routedHost: 'routedHost',
  /** VirtualService -> each `namespace/name` of a Gateway it binds to. */
  gateway: 'gateway',
  /** ServiceEntry -> `*` when one of its hosts is a wildcard (they cannot be looked up by name). */
  wildcardHost: 'wildcardHost',
  /** EndpointSlice -> `namespace/name` of its Service. */
  service: 'service',
} as const;

/** Each informer with the kind of its objects (core objects from a watch carry no `kind`). */
export function informersByKind(informers: MeshInformers): Array<{ [K in DependencyKind]: { kind: K; informer: Informer<Extract<Dependent, { kind: K }>['obj']> } }[DependencyKind]> {
  return [
    { kind: 'VirtualService', informer: informers.virtualServices },
    { kind: 'DestinationRule', informer: informers.destinationRules },
    { kind: 'Gateway', informer: informers.gateways },
    { kind: 'ServiceEntry', informer: informers.serviceEntries },
    { kind: 'WorkloadEntry', informer: informers.workloadEntries },
    { kind: 'MeshPolicy', informer: informers.meshPolicies },
    { kind: 'Service', informer: informers.services },
    { kind: 'EndpointSlice', informer: informers.endpointSlices },
    { kind: 'ServiceAccount', informer: informers.serviceAccounts },
    { kind: 'Pod', informer: informers.pods },
    { kind: 'Node', informer: informers.nodes },
  ];
}

/** Services and EndpointSlices: nothing here reads managedFields or kubectl's last-applied copy. */
const bookkeepingTransform: NonNullable<InformerSpec['transform']> = { name: 'mesh-trim', apply: withoutBookkeeping };

/**
 * Mesh objects: without managedFields and kubectl's last-applied copy (nothing in Weft reads them; the Gateway
 * annotations that matter stay), and with status.lastAccepted sharing the spec object when it records the current
 * generation with the same spec (the usual case: otherwise every object's spec is held twice). Readers compare
 * lastAccepted by value (the status writer) or read it (served.ts): sharing changes neither.
 */
const meshObjectTransform: NonNullable<InformerSpec['transform']> = { name: 'mesh-object', apply: (obj) => sharedLastAccepted(withoutBookkeeping(obj as AnyMeshObject)) };

/** `obj` with status.lastAccepted.spec the very `obj.spec` when the two are equal for the current generation. */
export function sharedLastAccepted<T extends AnyMeshObject>(obj: T): T {
  const last = obj.status?.lastAccepted;
  if (!last || last.generation !== obj.metadata.generation || last.spec === obj.spec || !isDeepStrictEqual(last.spec, obj.spec)) return obj;
  return { ...obj, status: { ...obj.status, lastAccepted: { ...last, spec: obj.spec } } };
}

/**
 * The informers and their indexes. `lastAccepted` tells an object's last accepted generation (status, or what this
 * replica saw), so that indexes find it by its served spec too.
 */
export function meshInformers(manager: Manager, lastAccepted: (obj: AnyMeshObject) => LastAccepted | undefined = () => undefined): MeshInformers {
  const informers: MeshInformers = {
    virtualServices: manager.informer<VirtualService>({ resource: meshResources.VirtualService, transform: meshObjectTransform }),
    destinationRules: manager.informer<DestinationRule>({ resource: meshResources.DestinationRule, transform: meshObjectTransform }),
    gateways: manager.informer<Gateway>({ resource: meshResources.Gateway, transform: meshObjectTransform }),
    serviceEntries: manager.informer<ServiceEntry>({ resource: meshResources.ServiceEntry, transform: meshObjectTransform }),
    workloadEntries: manager.informer<WorkloadEntry>({ resource: meshResources.WorkloadEntry, transform: meshObjectTransform }),
    meshPolicies: manager.informer<MeshPolicy>({ resource: meshResources.MeshPolicy, transform: meshObjectTransform }),
    services: manager.informer<Service>({ resource: coreResources.services, transform: bookkeepingTransform }),
    endpointSlices: manager.informer<EndpointSlice>({ resource: coreResources.endpointSlices, labelSelector: SERVICE_NAME_LABEL, transform: bookkeepingTransform }),
    serviceAccounts: manager.informer<ServiceAccount>({ resource: coreResources.serviceAccounts }),
    pods: manager.informer<PodMeta>({ resource: coreResources.pods, transform: { name: 'mesh-pod', apply: (o) => stripPod(o as PodMeta) as KubeObject } }),
    nodes: manager.informer<NodeMeta>({ resource: coreResources.nodes, transform: { name: 'mesh-node', apply: (o) => stripNode(o as NodeMeta) as KubeObject } }),
  };
  /** The keys of the current spec and, when it differs, of the last accepted one. */
  const bothForms =
    <T extends AnyMeshObject>(keys: (obj: T) => string[]) =>
    (obj: T): string[] => {
      const last = lastAccepted(obj);
      if (!last || last.generation === obj.metadata.generation) return keys(obj);
      return [...new Set([...keys(obj), ...keys(servedFrom(obj, last))])];
    };
  for (const { kind, informer } of informersByKind(informers)) {
    const dependent = (obj: KubeObject) => ({ kind, obj }) as Dependent;
    const mesh = kind !== 'Service' && kind !== 'EndpointSlice' && kind !== 'ServiceAccount' && kind !== 'Pod' && kind !== 'Node';
    (informer as Informer<KubeObject>).addIndex(
      Index.references,
      mesh ? (bothForms((obj: AnyMeshObject) => referencesOf(dependent(obj))) as (obj: KubeObject) => string[]) : (obj) => referencesOf(dependent(obj)),
    );
    (informer as Informer<KubeObject>).addIndex(Index.mentions, (obj) => mentionsOf(dependent(obj)));
  }
  informers.virtualServices.addIndex(
    Index.host,
    bothForms((vs: VirtualService) => [...new Set(destinationsOf(vs).map((d) => qualifyHost(d.destination.host, vs.metadata.namespace!)))]),
  );
  informers.virtualServices.addIndex(Index.routedHost, bothForms(routedHosts));
  informers.virtualServices.addIndex(Index.gateway, bothForms((vs: VirtualService) => [...new Set(gatewaysOf(vs).map((g) => g.ref))]));
  informers.destinationRules.addIndex(Index.host, bothForms((dr: DestinationRule) => [qualifyHost(dr.spec.host, dr.metadata.namespace!)]));
  informers.serviceEntries.addIndex(Index.host, bothForms((se: ServiceEntry) => se.spec.hosts));
  informers.serviceEntries.addIndex(Index.wildcardHost, bothForms((se: ServiceEntry) => (se.spec.hosts.some((h) => h.includes('*')) ? ['*'] : [])));
  informers.endpointSlices.addIndex(Index.service, (slice) => {
    const svc = serviceOfSlice(slice);
    return svc ? [`${svc.namespace}/${svc.name}`] : [];
  });
  return informers;
}

/** Whether an update changed the spec (the generation moves; an object without one is assumed to have changed). */
export function specChanged(old: KubeObject, obj: KubeObject): boolean {
  return old.metadata?.generation !== obj.metadata?.generation || old.metadata?.generation === undefined;
}

/**
 * Which updates of a kind can change a verdict or the model (adds and deletes always can): the one update predicate
 * of the mesh state's own invalidation, the reconcilers' declared watches and the model's change feed.
 */
export const relevantUpdate: Record<DependencyKind, UpdatePredicate<KubeObject>> = {
  // The model reads spec only: a status write (ours, on every reconcile and sync change) changes nothing.
  VirtualService: specChanged,
  DestinationRule: specChanged,
  Gateway: specChanged,
  ServiceEntry: specChanged,
  WorkloadEntry: specChanged,
  MeshPolicy: specChanged,
  // A Service declares a host: its spec (ports, cluster IPs, type) matters; status writes (load balancers) do not.
  Service: (old, obj) => !isDeepStrictEqual((old as { spec?: unknown }).spec, (obj as { spec?: unknown }).spec),
  // Its endpoints are its Service's; a relabel moves them to another Service.
  EndpointSlice: (old, obj) => {
    const [a, b] = [old as EndpointSlice, obj as EndpointSlice];
    return !isDeepStrictEqual(a.endpoints, b.endpoints) || !isDeepStrictEqual(a.ports, b.ports) || serviceOfSlice(a)?.name !== serviceOfSlice(b)?.name;
  },
  // Validation asks only whether a ServiceAccount exists.
  ServiceAccount: () => false,
  // What the cache keeps of them (labels, ServiceAccount, Node; locality labels) is all that matters.
  Pod: (old, obj) => !isDeepStrictEqual(withoutVersion(old), withoutVersion(obj)),
  Node: (old, obj) => !isDeepStrictEqual(withoutVersion(old), withoutVersion(obj)),
};

function withoutVersion(obj: KubeObject): unknown {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
}

