// The model's inputs answered from the mesh state's informers, and informer events turned into the hosts they can
// affect (through the declared dependencies, src/mesh/dependencies.ts).
import { isDeepStrictEqual } from 'node:util';
import type { VirtualService } from '../../api/index.js';
import type { Informer, KubeObject } from '../../controllers/index.js';
import type { Dependent, DependencyKind } from '../dependencies.js';
import type { MeshLookup } from '../lookup.js';
import { serviceOfSlice, type EndpointSlice, type MeshModelStore, type ModelInputs } from '../model/index.js';
import { gatewaysOf } from '../virtualservice.js';
import { Index, informersByKind, type MeshInformers } from './informers.js';
import { serviceEntryCandidates } from './lookup.js';

/** Inputs over the informers; `served` and `referrers` come from the mesh state. */
export function informerInputs(informers: MeshInformers, lookup: MeshLookup, state: Pick<ModelInputs, 'served' | 'referrers'>): ModelInputs {
  return {
    lookup,
    served: state.served,
    referrers: state.referrers,
    allServiceEntries: () => informers.serviceEntries.list(),
    allServices: () => informers.services.list(),
    serviceEntryCandidates: (fqdn) => serviceEntryCandidates(informers, fqdn),
    destinationRuleCandidates: (fqdn) => informers.destinationRules.byIndex(Index.host, fqdn),
    endpointSlicesForService: (namespace, name) => informers.endpointSlices.byIndex(Index.service, `${namespace}/${name}`),
    virtualServicesForHost: (fqdn) => informers.virtualServices.byIndex(Index.routedHost, fqdn),
    virtualServicesRoutingTo: (fqdn) => informers.virtualServices.byIndex(Index.host, fqdn),
    virtualServicesForGateway: (ref) => informers.virtualServices.byIndex(Index.gateway, ref),
  };
}

/** Whether an update changed the spec (the generation moves; an object without one is assumed to have changed). */
export function specChanged(old: KubeObject, obj: KubeObject): boolean {
  return old.metadata?.generation !== obj.metadata?.generation || old.metadata?.generation === undefined;
}

/** Which updates of a kind can change the model; adds and deletes always can. */
const modelUpdate: Record<DependencyKind, ((old: KubeObject, obj: KubeObject) => boolean) | false> = {
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
  ServiceAccount: false,
};

/**
 * Calls `onHosts(namespace, hosts)` with the hosts each informer event can affect (for an update, those of the old
 * and the new object). Returns the unsubscribe function. Events replayed on subscription are skipped: the caller
 * builds the initial model from the synced caches itself.
 */
export function watchModelChanges(informers: MeshInformers, store: MeshModelStore, onHosts: (namespace: string, hosts: Set<string>) => void): () => void {
  let replaying = true;
  const unsubscribe = informersByKind(informers).map(({ kind, informer }) => {
    const emit = (obj: KubeObject) => {
      if (replaying) return;
      const hosts = store.hostsAffectedBy({ kind, obj } as Dependent);
      if (hosts.size > 0) onHosts(obj.metadata?.namespace ?? '', hosts);
    };
    const relevant = modelUpdate[kind];
    return (informer as Informer<KubeObject>).on({
      onAdd: emit,
      onUpdate: (old, obj) => {
        if (!relevant || !relevant(old, obj)) return;
        emit(old);
        emit(obj);
      },
      onDelete: emit,
    });
  });
  replaying = false;
  return () => unsubscribe.forEach((u) => u());
}

/**
 * Calls `onChange(namespace)` for what gateway config reads besides the model: Gateways, VirtualServices bound to a
 * gateway, and TLS Secrets. Spec changes only (status writes are ours); replayed events are skipped.
 */
export function watchGatewayChanges(informers: MeshInformers, secrets: Informer<KubeObject> | undefined, onChange: (namespace: string) => void): () => void {
  let replaying = true;
  const emit = (obj: KubeObject) => {
    if (!replaying) onChange(obj.metadata?.namespace ?? '');
  };
  const boundToGateway = (vs: VirtualService) => gatewaysOf(vs).length > 0;
  const unsubscribe = [
    informers.gateways.on({ onAdd: emit, onUpdate: (old, obj) => specChanged(old, obj) && emit(obj), onDelete: emit }),
    informers.virtualServices.on({
      onAdd: (vs) => boundToGateway(vs) && emit(vs),
      onUpdate: (old, vs) => specChanged(old, vs) && (boundToGateway(old) || boundToGateway(vs)) && emit(vs),
      onDelete: (vs) => boundToGateway(vs) && emit(vs),
    }),
    // Secrets have no generation: any update may be a new certificate.
    ...(secrets ? [secrets.on({ onAdd: emit, onUpdate: (_old, obj) => emit(obj), onDelete: emit })] : []),
  ];
  replaying = false;
  return () => unsubscribe.forEach((u) => u());
}
