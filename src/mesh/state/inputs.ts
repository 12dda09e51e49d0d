// The model's inputs answered from the mesh state's informers, and informer events turned into the hosts they can
// affect (through the declared dependencies, src/mesh/dependencies.ts).
import type { VirtualService } from '../../api/index.js';
import type { Informer, KubeObject } from '../../controllers/index.js';
import type { Dependent } from '../dependencies.js';
import type { MeshLookup } from '../lookup.js';
import type { MeshModelStore, ModelInputs } from '../model/index.js';
import { isDelegate } from '../delegation.js';
import { gatewaysOf } from '../virtualservice.js';
import { Index, informersByKind, relevantUpdate, specChanged, type MeshInformers } from './informers.js';
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
    pod: (namespace, name) => informers.pods.get(namespace, name),
    node: (name) => informers.nodes.get('', name),
    virtualServicesForHost: (fqdn) => informers.virtualServices.byIndex(Index.routedHost, fqdn),
    virtualServicesRoutingTo: (fqdn) => informers.virtualServices.byIndex(Index.host, fqdn),
    virtualServicesForGateway: (ref) => informers.virtualServices.byIndex(Index.gateway, ref),
  };
}

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
    const relevant = relevantUpdate[kind];
    return (informer as Informer<KubeObject>).on({
      onAdd: emit,
      onUpdate: (old, obj) => {
        if (!relevant(old, obj)) return;
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
  // A delegate binds to no gateway itself, but its routes are in those of the roots that are bound to one.
  const boundToGateway = (vs: VirtualService) => gatewaysOf(vs).length > 0 || isDelegate(vs);
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
