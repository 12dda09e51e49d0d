// The caches the Gateway reconciler needs beyond the mesh's own: the objects Weft generated for Gateways, and
// the TLS Secrets their servers name.
import type { V1Secret } from '@kubernetes/client-node';
import { resources, type Informer, type Json, type KubeObject, type Manager } from '../controllers/index.js';
import { GATEWAY_NAME_LABEL } from './names.js';
import { GENERATED_KINDS, generatedResources, type GeneratedKind } from './resources.js';

export type GeneratedInformers = Record<GeneratedKind, Informer<KubeObject>>;
export type Secret = Json<V1Secret>;

/**
 * One informer per generated kind, selecting only objects with the gateway-name label, so the operator never
 * caches every Deployment or Service of the cluster.
 */
export function generatedInformers(manager: Manager): GeneratedInformers {
  return Object.fromEntries(
    GENERATED_KINDS.map((kind) => [kind, manager.informer<KubeObject>({ resource: generatedResources[kind], labelSelector: GATEWAY_NAME_LABEL })]),
  ) as GeneratedInformers;
}

/**
 * Secrets of type kubernetes.io/tls, in every namespace (Gateways live in any). The field selector keeps
 * ServiceAccount tokens, Helm releases and other Secrets out of the operator's memory; RBAC cannot narrow a
 * list by type, so the ClusterRole still grants list/watch on all Secrets. The xDS server shares this informer
 * (the manager returns the same one for the same spec) to serve the certificates over SDS.
 */
export function tlsSecretInformer(manager: Manager): Informer<Secret> {
  return manager.informer<Secret>({ resource: resources.secrets, fieldSelector: 'type=kubernetes.io/tls' });
}
