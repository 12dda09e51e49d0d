// Builds the model of one host from the served form of the resources that concern it (src/mesh/served.ts: the
// accepted generation, or the last accepted one). Pure: the same inputs give the same model. Where several
// resources compete for a host, the oldest wins (conflicts.ts tells the others).
import { ROOT_NAMESPACE, canonicalProtocol, type Destination, type DestinationRule, type HTTPMatchRequest, type HTTPRoute, type ServiceEntry, type ServicePort, type TCPRoute, type VirtualService, type WorkloadEntry } from '../../api/index.js';
import { resolveDelegation } from '../delegation.js';
import { routedHosts } from '../dependencies.js';
import { qualifyHost } from '../hosts.js';
import { selects } from '../labels.js';
import { workloadSecurity, type WorkloadSecurity } from '../policy.js';
import { olderFirst } from '../verdict.js';
import type { ModelInputs } from './inputs.js';
import { kubernetesService, type DeclaredService } from './kubernetes.js';
import type { EndpointModel, MeshRef, PolicyModel, RoutingModel, ServiceModel, ServicePortModel } from './types.js';

type Referable = ServiceEntry | WorkloadEntry | VirtualService | DestinationRule;

export function refOf(obj: Referable): MeshRef {
  return { kind: obj.kind, namespace: obj.metadata.namespace!, name: obj.metadata.name!, generation: obj.metadata.generation ?? 0 };
}

/**
 * The service at `host`, or undefined when nothing declares it. Two registries declare services: ServiceEntries
 * (Accepted ones; consulted first, so an entry declaring a Service's host wins over the Service) and Kubernetes
 * Services with their EndpointSlices. DestinationRules and VirtualServices apply to either alike.
 */
export function buildService(host: string, inputs: ModelInputs): ServiceModel | undefined {
  if (host.includes('*')) return undefined; // wildcard entries declare egress, not a routable service
  const declared = fromServiceEntry(host, inputs) ?? fromKubernetesService(host, inputs);
  if (!declared) return undefined;
  const service: ServiceModel = { host, ...declared };
  const policy = policyFor(host, inputs);
  if (policy) service.policy = policy;
  const routing = routingFor(host, inputs);
  if (routing) service.routing = routing;
  return service;
}

/**
 * A ServiceEntry's ports with the protocol Weft generates for (Istio's names in any case; empty is unset, as in
 * Istio). Ports already in that form are the spec's own objects, and so is the list when all are: the model shares
 * them rather than holding a copy per service.
 */
function modelPorts(ports: readonly ServicePort[]): readonly ServicePortModel[] {
  const canonical = (p: ServicePort) => p.protocol === undefined || p.protocol === canonicalProtocol(p.protocol);
  if (ports.every(canonical)) return ports as readonly ServicePortModel[];
  return ports.map(({ protocol, ...port }) => (protocol === undefined || protocol === '' ? port : { ...port, protocol: canonicalProtocol(protocol) }));
}

function fromServiceEntry(host: string, inputs: ModelInputs): DeclaredService | undefined {
  const entry = declaringEntry(host, inputs);
  if (!entry) return undefined;
  const declaredBy = refOf(entry);
  return {
    namespace: entry.metadata.namespace!,
    ports: modelPorts(entry.spec.ports ?? []),
    addresses: entry.spec.addresses ?? [],
    location: entry.spec.location ?? 'MESH_EXTERNAL',
    resolution: entry.spec.resolution ?? 'NONE',
    endpoints: endpointsOf(entry, declaredBy, inputs),
    declaredBy,
  };
}

/** A Kubernetes Service's endpoints get the MeshPolicies in scope like WorkloadEntries do (by namespace and their Pods' labels). */
function fromKubernetesService(host: string, inputs: ModelInputs): DeclaredService | undefined {
  const declared = kubernetesService(host, {
    service: (ns, name) => inputs.lookup.service(ns, name),
    endpointSlices: inputs.endpointSlicesForService,
    pod: inputs.pod,
    node: inputs.node,
  });
  if (!declared) return undefined;
  const endpoints = declared.endpoints.map((e) => {
    const security = securityOf(e.source.namespace, e.labels, inputs);
    return security ? { ...e, security } : e;
  });
  return { ...declared, endpoints };
}

/** The ServiceEntry that declares `host`: the oldest of those whose served form does. */
export function declaringEntry(host: string, inputs: ModelInputs): ServiceEntry | undefined {
  return servedAll(inputs.serviceEntryCandidates(host), inputs)
    .filter((se) => se.spec.hosts.some((h) => qualifyHost(h, se.metadata.namespace!) === host))
    .sort(olderFirst)[0];
}

/** The served forms of `objects` (those with none left out). */
function servedAll<T extends ServiceEntry | WorkloadEntry | VirtualService | DestinationRule | MeshPolicyOf>(objects: readonly T[], inputs: ModelInputs): T[] {
  const out: T[] = [];
  for (const o of objects) {
    const served = inputs.served(o);
    if (served) out.push(served);
  }
  return out;
}
type MeshPolicyOf = Parameters<typeof workloadSecurity>[0][number];

function endpointsOf(entry: ServiceEntry, declaredBy: MeshRef, inputs: ModelInputs): EndpointModel[] {
  const selector = entry.spec.workloadSelector;
  if (selector) {
    // A WorkloadEntry without an address is on another network, reached through its gateway: not routed to yet.
    return servedAll(inputs.lookup.workloadEntries(entry.metadata.namespace!), inputs)
      .filter((we) => selects(selector.labels, we.spec.labels))
      .sort(olderFirst)
      .flatMap((we) => (we.spec.address ? [endpoint({ ...we.spec, address: we.spec.address }, refOf(we), inputs)] : []));
  }
  return (entry.spec.endpoints ?? []).flatMap((e) => (e.address ? [endpoint({ ...e, address: e.address }, declaredBy, inputs)] : []));
}

function endpoint(spec: WorkloadEntry['spec'] & { address: string }, source: MeshRef, inputs: ModelInputs): EndpointModel {
  const e: EndpointModel = { address: spec.address, ports: spec.ports ?? {}, labels: spec.labels ?? {}, source };
  if (spec.weight !== undefined) e.weight = spec.weight;
  if (spec.locality !== undefined) e.locality = spec.locality;
  if (spec.serviceAccount !== undefined) e.serviceAccount = spec.serviceAccount;
  const security = securityOf(source.namespace, e.labels, inputs);
  if (security) e.security = security;
  return e;
}

/** The Accepted MeshPolicies' settings for a workload; undefined when none applies. */
function securityOf(namespace: string, labels: Readonly<Record<string, string>>, inputs: ModelInputs): WorkloadSecurity | undefined {
  const policies = servedAll([...inputs.lookup.meshPolicies(namespace), ...(namespace === ROOT_NAMESPACE ? [] : inputs.lookup.meshPolicies(ROOT_NAMESPACE))], inputs);
  const security = workloadSecurity(policies, { namespace, labels: { ...labels } });
  return security.mtlsFrom || security.portMtls || security.authorizations.length > 0 || security.rateLimit || security.telemetry ? security : undefined;
}

/** The DestinationRule that configures `host`: the oldest served one for it without a workloadSelector. */
export function ruleFor(host: string, inputs: ModelInputs): DestinationRule | undefined {
  return servedAll(inputs.destinationRuleCandidates(host), inputs)
    .filter((dr) => qualifyHost(dr.spec.host, dr.metadata.namespace!) === host)
    .filter((dr) => !dr.spec.workloadSelector) // rules for some workloads only need per-proxy generation: not yet
    .sort(olderFirst)[0];
}

function policyFor(host: string, inputs: ModelInputs): PolicyModel | undefined {
  const rule = ruleFor(host, inputs);
  if (!rule) return undefined;
  const policy: PolicyModel = { source: refOf(rule), subsets: rule.spec.subsets ?? [] };
  if (rule.spec.trafficPolicy) policy.trafficPolicy = rule.spec.trafficPolicy;
  return policy;
}

/** Whether a VirtualService (or one of its matches) applies to mesh proxies rather than to gateways only. */
export function appliesToMesh(gateways: readonly string[] | undefined): boolean {
  return !gateways || gateways.length === 0 || gateways.includes('mesh');
}

/** The VirtualService that routes `host` for mesh proxies: the oldest served one for it. */
export function routingVirtualService(host: string, inputs: ModelInputs): VirtualService | undefined {
  return servedAll(inputs.virtualServicesForHost(host), inputs)
    .filter((v) => appliesToMesh(v.spec.gateways) && routedHosts(v).includes(host))
    .sort(olderFirst)[0];
}

function routingFor(host: string, inputs: ModelInputs): RoutingModel | undefined {
  const vs = routingVirtualService(host, inputs);
  if (!vs) return undefined;
  const ns = vs.metadata.namespace!;
  const resolved = resolveDelegation(vs, (dns, name) => {
    const delegate = inputs.lookup.virtualService(dns, name);
    return delegate && inputs.served(delegate);
  });
  const http = resolved.http.flatMap((r) => meshRoute(r, ns));
  const tcp: TCPRoute[] = (vs.spec.tcp ?? [])
    .filter((r) => !r.match || r.match.some((m) => appliesToMesh(m.gateways)))
    .map((r) => ({ ...r, route: r.route.map((d) => ({ ...d, destination: qualify(d.destination, ns) })) }));
  const routing: RoutingModel = { source: refOf(vs), http, tcp };
  if (resolved.delegates.length > 0) routing.delegates = resolved.delegates.map(refOf);
  return routing;
}

/**
 * The route as mesh proxies see it: only the matches that apply to every mesh proxy. Matches for gateways, or for
 * some source workloads (sourceLabels, sourceNamespace: they need per-proxy config, not generated yet), are left out.
 */
function meshRoute(route: HTTPRoute, ns: string): HTTPRoute[] {
  return scopedRoute(route, ns, (m) => appliesToMesh(m.gateways) && !m.sourceLabels && !m.sourceNamespace);
}

/**
 * A route as one kind of proxy sees it: destinations qualified in the VirtualService's namespace `ns`, and only the
 * matches `applies` keeps. A route left with no match at all is dropped rather than widened.
 */
export function scopedRoute(route: HTTPRoute, ns: string, applies: (m: HTTPMatchRequest) => boolean): HTTPRoute[] {
  let match: HTTPMatchRequest[] | undefined;
  if (route.match && route.match.length > 0) {
    match = route.match.filter(applies);
    if (match.length === 0) return [];
  }
  const out: HTTPRoute = { ...route };
  if (match) out.match = match;
  if (route.route) out.route = route.route.map((d) => ({ ...d, destination: qualify(d.destination, ns) }));
  if (route.mirror) out.mirror = qualify(route.mirror, ns);
  if (route.mirrors) out.mirrors = route.mirrors.map((m) => ({ ...m, destination: qualify(m.destination, ns) }));
  return [out];
}

function qualify(d: Destination, ns: string): Destination {
  return { ...d, host: qualifyHost(d.host, ns) };
}
