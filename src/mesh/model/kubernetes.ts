// The second service registry: a Kubernetes Service is the mesh service `<name>.<namespace>.svc.cluster.local`,
// its endpoints the ready addresses of the EndpointSlices labelled `kubernetes.io/service-name=<name>`. Each
// endpoint that names its Pod (targetRef) carries the Pod's labels and ServiceAccount (its SPIFFE identity) and the
// locality of the Pod's Node, so DestinationRule subsets, MeshPolicy selectors, SAN checks and locality-aware load
// balancing work for Pods as for WorkloadEntries. Pods and Nodes are cached stripped to those fields (stripPod).
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Json } from '../../controllers/object.js';
import { serviceOfHost } from '../hosts.js';
import { servicePortProtocol } from './protocol.js';
import type { EndpointModel, MeshRef, ServiceModel, ServicePortModel } from './types.js';

export type KubernetesService = Json<V1Service>;
export type EndpointSlice = Json<V1EndpointSlice>;
/** A Pod as the mesh keeps it: name, labels, ServiceAccount and Node (see stripPod). */
export type PodMeta = Json<V1Pod>;
/** A Node as the mesh keeps it: name and topology labels (see stripNode). */
export type NodeMeta = Json<V1Node>;

/** Node labels that give an endpoint's locality (region/zone/subzone), as Istio reads them. */
export const LOCALITY_LABELS = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'] as const;

/** What the mesh keeps of a Pod: a few hundred bytes where the whole object is several kilobytes. */
export function stripPod(pod: PodMeta): PodMeta {
  const m = pod.metadata ?? {};
  const spec: NonNullable<PodMeta['spec']> = { containers: [] };
  if (pod.spec?.serviceAccountName) spec.serviceAccountName = pod.spec.serviceAccountName;
  if (pod.spec?.nodeName) spec.nodeName = pod.spec.nodeName;
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, ...(m.labels ? { labels: m.labels } : {}) },
    spec,
  } as PodMeta;
}

/** What the mesh keeps of a Node: its name and locality labels. */
export function stripNode(node: NodeMeta): NodeMeta {
  const m = node.metadata ?? {};
  const labels = Object.fromEntries(LOCALITY_LABELS.flatMap((l) => (m.labels?.[l] !== undefined ? [[l, m.labels[l]]] : [])));
  return { apiVersion: node.apiVersion, kind: node.kind, metadata: { name: m.name, uid: m.uid, resourceVersion: m.resourceVersion, labels } } as NodeMeta;
}

/** `region/zone/subzone` from a Node's labels; undefined when it has none. */
export function nodeLocality(node: NodeMeta | undefined): string | undefined {
  const parts = LOCALITY_LABELS.map((l) => node?.metadata?.labels?.[l] ?? '');
  return parts.some((p) => p !== '') ? parts.join('/').replace(/\/+$/, '') : undefined;
}

/** The label the EndpointSlice controller (and anyone writing slices by hand) ties a slice to its Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** What the Kubernetes registry needs to read. */
export interface KubernetesRegistry {
  service(namespace: string, name: string): KubernetesService | undefined;
  endpointSlices(namespace: string, serviceName: string): EndpointSlice[];
  pod(namespace: string, name: string): PodMeta | undefined;
  node(name: string): NodeMeta | undefined;
}

/** The parts of a ServiceModel a Kubernetes Service declares (policy and routing are added as for any host). */
export type DeclaredService = Pick<ServiceModel, 'namespace' | 'ports' | 'addresses' | 'location' | 'resolution' | 'endpoints' | 'declaredBy'>;

/** `namespace/name` of the Service an EndpointSlice belongs to, if it is labelled with one. */
export function serviceOfSlice(slice: EndpointSlice): { namespace: string; name: string } | undefined {
  const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return name ? { namespace: slice.metadata?.namespace ?? '', name } : undefined;
}

export function serviceHost(namespace: string, name: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

/** The service a Kubernetes Service declares at `host`, if `host` names one (ExternalName Services are not mesh services). */
export function kubernetesService(host: string, registry: KubernetesRegistry): DeclaredService | undefined {
  const ref = serviceOfHost(host);
  if (!ref) return undefined;
  const svc = registry.service(ref.namespace, ref.name);
  if (!svc || svc.spec?.type === 'ExternalName') return undefined;
  const declaredBy: MeshRef = { kind: 'Service', namespace: ref.namespace, name: ref.name, generation: svc.metadata?.generation ?? 0 };
  const ports: ServicePortModel[] = [];
  for (const p of svc.spec?.ports ?? []) {
    const protocol = servicePortProtocol(p);
    if (protocol) ports.push({ number: p.port, name: p.name ?? '', protocol });
  }
  const slices = [...registry.endpointSlices(ref.namespace, ref.name)].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return {
    namespace: ref.namespace,
    ports,
    addresses: clusterIPs(svc),
    location: 'MESH_INTERNAL',
    resolution: 'STATIC',
    endpoints: slices.flatMap((slice) => sliceEndpoints(slice, svc.spec?.publishNotReadyAddresses === true, registry)),
    declaredBy,
  };
}

/** The Service's virtual IPs; none for a headless Service. */
function clusterIPs(svc: KubernetesService): string[] {
  const ips = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
  return ips.filter((ip) => ip !== 'None' && ip !== '');
}

/**
 * Whether an endpoint takes traffic, as Istio decides: ready (an unset condition means ready), or serving and not
 * terminating; every endpoint when the Service publishes not-ready addresses.
 */
function takesTraffic(conditions: { ready?: boolean; serving?: boolean; terminating?: boolean } | undefined, publishNotReady: boolean): boolean {
  if (publishNotReady) return true;
  if (conditions?.ready !== false) return true;
  return conditions.serving === true && conditions.terminating !== true;
}

function sliceEndpoints(slice: EndpointSlice, publishNotReady: boolean, registry: KubernetesRegistry): EndpointModel[] {
  if (slice.addressType === 'FQDN') return []; // EDS takes IP addresses only
  const source: MeshRef = { kind: 'EndpointSlice', namespace: slice.metadata?.namespace ?? '', name: slice.metadata?.name ?? '', generation: slice.metadata?.generation ?? 0 };
  // The slice's ports are the Service's, by name, already resolved to the Pods' target ports.
  const ports: Record<string, number> = {};
  for (const p of slice.ports ?? []) if (p.port !== undefined) ports[p.name ?? ''] = p.port;
  const out: EndpointModel[] = [];
  for (const e of slice.endpoints ?? []) {
    if (!takesTraffic(e.conditions, publishNotReady)) continue;
    const pod = e.targetRef?.kind === 'Pod' && e.targetRef.name ? registry.pod(e.targetRef.namespace ?? source.namespace, e.targetRef.name) : undefined;
    const nodeName = e.nodeName ?? pod?.spec?.nodeName;
    const locality = nodeLocality(nodeName ? registry.node(nodeName) : undefined) ?? (e.zone ? `/${e.zone}` : undefined);
    for (const address of e.addresses ?? []) {
      const endpoint: EndpointModel = { address, ports, onlyListedPorts: true, labels: pod?.metadata?.labels ?? {}, source };
      if (pod) endpoint.serviceAccount = pod.spec?.serviceAccountName ?? 'default';
      if (locality) endpoint.locality = locality;
      out.push(endpoint);
    }
  }
  return out;
}
