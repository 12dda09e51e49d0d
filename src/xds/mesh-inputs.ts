// The model's inputs answered from the reconcilers' informer caches, and the informer events turned into the
// hosts they can affect.
import { isDeepStrictEqual } from 'node:util';
import type { AnyMeshObject, VirtualService } from '../api/index.js';
import type { Informer, KubeObject } from '../controllers/index.js';
import { routedHosts, serviceOfSlice, type EndpointSlice, type MeshModelStore, type ModelChange, type ModelInputs } from '../mesh/model/index.js';
import { gatewaysOf } from '../mesh/virtualservice.js';
import { Index, type MeshInformers } from '../reconcilers/informers.js';
import { informerLookup } from '../reconcilers/lookup.js';

/** VirtualService → the qualified hosts it routes for. */
const ROUTED_HOST = 'xds.routedHost';

/** Inputs over the informers; adds the index it needs (call before the informers start). */
export function informerInputs(informers: MeshInformers): ModelInputs {
  informers.virtualServices.addIndex(ROUTED_HOST, routedHosts);
  return {
    lookup: informerLookup(informers),
    allServiceEntries: () => informers.serviceEntries.list(),
    allServices: () => informers.services.list(),
    endpointSlicesForService: (namespace, name) => informers.endpointSlices.byIndex(Index.service, `${namespace}/${name}`),
    virtualServicesForHost: (fqdn) => informers.virtualServices.byIndex(ROUTED_HOST, fqdn),
    virtualServicesRoutingTo: (fqdn) => informers.virtualServices.byIndex(Index.host, fqdn),
    virtualServicesForGateway: (ref) => informers.virtualServices.byIndex(Index.gateway, ref),
    workloadEntriesForServiceAccount: (ref) => informers.workloadEntries.byIndex(Index.serviceAccount, ref),
  };
}

/** Whether an update changed the spec (the generation moves; an object without one is assumed to have changed). */
function specChanged(old: KubeObject, obj: KubeObject): boolean {
  return old.metadata?.generation !== obj.metadata?.generation || old.metadata?.generation === undefined;
}

/** Every informer the model reads. */
export function modelInformers(informers: MeshInformers): Array<Informer<KubeObject>> {
  return [
    informers.serviceEntries,
    informers.workloadEntries,
    informers.virtualServices,
    informers.destinationRules,
    informers.gateways,
    informers.meshPolicies,
    informers.services,
    informers.endpointSlices,
    informers.serviceAccounts,
  ] as Array<Informer<KubeObject>>;
}

/**
 * Calls `onHosts(namespace, hosts)` with the hosts each informer event can affect (for an update, those of the old
 * and the new object). Returns the unsubscribe function. Events replayed on subscription are skipped: the caller
 * builds the initial model from the synced caches itself.
 */
export function watchModelChanges(informers: MeshInformers, store: MeshModelStore, onHosts: (namespace: string, hosts: Set<string>) => void): () => void {
  const unsubscribe: Array<() => void> = [];
  let replaying = true;
  const emit = (change: ModelChange, namespace: string) => {
    if (replaying) return;
    const hosts = store.hostsAffectedBy(change);
    if (hosts.size > 0) onHosts(namespace, hosts);
  };
  const meshHandler = (obj: AnyMeshObject) => emit({ kind: obj.kind, obj }, obj.metadata.namespace ?? '');
  const coreHandler = (kind: 'Service' | 'ServiceAccount') => (obj: KubeObject) =>
    emit({ kind, namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' }, obj.metadata?.namespace ?? '');
  const mesh = [informers.serviceEntries, informers.workloadEntries, informers.virtualServices, informers.destinationRules, informers.gateways, informers.meshPolicies] as Array<
    Informer<AnyMeshObject>
  >;
  for (const informer of mesh) {
    const onUpdate = (old: AnyMeshObject, obj: AnyMeshObject) => {
      // The model reads spec only: a status write (ours, on every reconcile and sync change) changes nothing.
      if (!specChanged(old, obj)) return;
      meshHandler(old);
      meshHandler(obj);
    };
    unsubscribe.push(informer.on({ onAdd: meshHandler, onUpdate, onDelete: meshHandler }));
  }
  // A Service declares a host: its spec (ports, cluster IPs, type) matters; status writes (load balancers) do not.
  const serviceHandler = coreHandler('Service');
  unsubscribe.push(
    (informers.services as Informer<KubeObject>).on({
      onAdd: serviceHandler,
      onUpdate: (old, obj) => !isDeepStrictEqual((old as { spec?: unknown }).spec, (obj as { spec?: unknown }).spec) && serviceHandler(obj),
      onDelete: serviceHandler,
    }),
  );
  // Validation asks only whether a ServiceAccount exists: adds and deletes matter, updates do not.
  const serviceAccountHandler = coreHandler('ServiceAccount');
  unsubscribe.push((informers.serviceAccounts as Informer<KubeObject>).on({ onAdd: serviceAccountHandler, onDelete: serviceAccountHandler }));
  // An EndpointSlice's endpoints are its Service's; on an update both the old and the new Service (a relabel).
  const sliceHandler = (slice: EndpointSlice) => {
    const namespace = slice.metadata?.namespace ?? '';
    const service = serviceOfSlice(slice)?.name;
    emit({ kind: 'EndpointSlice', namespace, name: slice.metadata?.name ?? '', ...(service ? { service } : {}) }, namespace);
  };
  unsubscribe.push(
    informers.endpointSlices.on({
      onAdd: sliceHandler,
      onUpdate: (old, slice) => {
        if (isDeepStrictEqual(old.endpoints, slice.endpoints) && isDeepStrictEqual(old.ports, slice.ports) && serviceOfSlice(old)?.name === serviceOfSlice(slice)?.name) return;
        sliceHandler(old);
        sliceHandler(slice);
      },
      onDelete: sliceHandler,
    }),
  );
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
