// The second service registry: a Kubernetes Service is the mesh service `<name>.<namespace>.svc.cluster.local`,
// its endpoints the ready addresses of the EndpointSlices labelled `kubernetes.io/service-name=<name>`.
// Slices carry no Pod labels and no ServiceAccount (reading Pods would mean watching every Pod in the cluster), so
// these endpoints have no labels: a DestinationRule subset with labels selects none of them.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { ServicePort } from '../../api/index.js';
import type { Json } from '../../controllers/object.js';
import { serviceOfHost } from '../hosts.js';
import { servicePortProtocol } from './protocol.js';
import type { EndpointModel, MeshRef, ServiceModel } from './types.js';

export type KubernetesService = Json<V1Service>;
export type EndpointSlice = Json<V1EndpointSlice>;

/** The label the EndpointSlice controller (and anyone writing slices by hand) ties a slice to its Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** What the Kubernetes registry needs to read. */
export interface KubernetesRegistry {
  service(namespace: string, name: string): KubernetesService | undefined;
  endpointSlices(namespace: string, serviceName: string): EndpointSlice[];
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
  const ports: ServicePort[] = [];
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
    endpoints: slices.flatMap((slice) => sliceEndpoints(slice, svc.spec?.publishNotReadyAddresses === true)),
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

function sliceEndpoints(slice: EndpointSlice, publishNotReady: boolean): EndpointModel[] {
  if (slice.addressType === 'FQDN') return []; // EDS takes IP addresses only
  const source: MeshRef = { kind: 'EndpointSlice', namespace: slice.metadata?.namespace ?? '', name: slice.metadata?.name ?? '', generation: slice.metadata?.generation ?? 0 };
  // The slice's ports are the Service's, by name, already resolved to the Pods' target ports.
  const ports: Record<string, number> = {};
  for (const p of slice.ports ?? []) if (p.port !== undefined) ports[p.name ?? ''] = p.port;
  const out: EndpointModel[] = [];
  for (const e of slice.endpoints ?? []) {
    if (!takesTraffic(e.conditions, publishNotReady)) continue;
    for (const address of e.addresses ?? []) {
      const endpoint: EndpointModel = { address, ports, onlyListedPorts: true, labels: {}, source };
      if (e.zone) endpoint.locality = `/${e.zone}`; // region unknown: it is on the Node, not in the slice
      out.push(endpoint);
    }
  }
  return out;
}
