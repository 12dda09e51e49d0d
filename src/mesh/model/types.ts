// The mesh model: what the xDS generators consume. One ServiceModel per routable host, built only from Accepted
// resources, with host names already qualified, so generators never consult the API objects' rules again.
import type { HTTPRoute, Protocol, ServicePort, Subset, TCPRoute, TrafficPolicy } from '../../api/index.js';
import type { WorkloadSecurity } from '../policy.js';

/** A mesh object that contributed to the model, at the generation it had. */
export interface MeshRef {
  kind: 'ServiceEntry' | 'WorkloadEntry' | 'VirtualService' | 'DestinationRule' | 'Service' | 'EndpointSlice' | 'Gateway' | 'Secret' | 'MeshPolicy';
  namespace: string;
  name: string;
  /** 0 for objects that have none (Secrets). */
  generation: number;
}

export interface EndpointModel {
  address: string;
  /** Port numbers by service port name (an endpoint may listen elsewhere than the service port). */
  ports: Readonly<Record<string, number>>;
  /**
   * The endpoint receives traffic only on the ports in `ports` (an EndpointSlice lists exactly the ports its
   * endpoints serve); otherwise an unlisted port falls back to the service port's targetPort or number.
   */
  onlyListedPorts?: boolean;
  labels: Readonly<Record<string, string>>;
  weight?: number;
  /** `region/zone/subzone`. */
  locality?: string;
  serviceAccount?: string;
  /** The WorkloadEntry (or the ServiceEntry, for its inline endpoints; the EndpointSlice) the endpoint comes from. */
  source: MeshRef;
  /**
   * Mutual TLS, authorization, rate limit and telemetry from the MeshPolicies in scope; absent when none applies
   * (PERMISSIVE, no rules, no rate limit, no telemetry).
   */
  security?: WorkloadSecurity;
}

/** Traffic policy for the host, from the DestinationRule that owns it. */
export interface PolicyModel {
  source: MeshRef;
  trafficPolicy?: TrafficPolicy;
  subsets: readonly Subset[];
}

/** Routing for the host, from the VirtualService that owns it; every destination host is fully qualified. */
export interface RoutingModel {
  source: MeshRef;
  /** Delegate VirtualServices whose routes are merged into `http` (src/mesh/delegation.ts). */
  delegates?: readonly MeshRef[];
  http: readonly HTTPRoute[];
  tcp: readonly TCPRoute[];
}

/** A service's port, its protocol the one Weft generates for (a ServiceEntry may spell Istio's names in any case). */
export type ServicePortModel = Omit<ServicePort, 'protocol'> & { protocol?: Protocol };

export interface ServiceModel {
  /** Fully qualified, concrete (no wildcard). */
  host: string;
  namespace: string;
  ports: readonly ServicePortModel[];
  /** Virtual IPs of the service (ServiceEntry addresses, a Service's cluster IPs): what tells TCP services apart. */
  addresses: readonly string[];
  /** MESH_INTERNAL services have mesh workloads behind them; MESH_EXTERNAL ones do not. */
  location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  resolution: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  endpoints: readonly EndpointModel[];
  policy?: PolicyModel;
  routing?: RoutingModel;
  /** The object that declares the service: a ServiceEntry, or a Kubernetes Service (when no ServiceEntry declares the host). */
  declaredBy: MeshRef;
}

/** Every object a service model was built from. */
export function sourcesOf(service: ServiceModel): MeshRef[] {
  const refs = [service.declaredBy];
  for (const e of service.endpoints) if (e.source !== service.declaredBy) refs.push(e.source);
  if (service.policy) refs.push(service.policy.source);
  if (service.routing) refs.push(service.routing.source, ...(service.routing.delegates ?? []));
  return refs;
}

/** The objects a service's routes come from: the routing VirtualService and the delegates merged into it. */
export function routingSources(service: ServiceModel): MeshRef[] {
  return service.routing ? [service.routing.source, ...(service.routing.delegates ?? [])] : [];
}

export function refKey(ref: { kind: string; namespace: string; name: string }): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** What generators read. */
export interface MeshModel {
  service(host: string): ServiceModel | undefined;
  services(): Iterable<ServiceModel>;
  /** Hosts whose routes send traffic to `host` (their routes depend on its ports). */
  routedFrom(host: string): Iterable<string>;
}
