// What depends on what, declared once per kind. Every object provides keys that others may refer to (a host, a
// Gateway, a ServiceAccount, ...) and refers to the keys its verdict and its served config depend on. From this one
// table come the reconcilers' watches (which objects to validate again when another one changes), the verdict
// memo's invalidation, and the model's "hosts affected by a change" (src/mesh/model/store.ts). Pure.
import type { V1ServiceAccount } from '@kubernetes/client-node';
import { ROOT_NAMESPACE, type AnyMeshObject, type DestinationRule, type Gateway, type MeshPolicy, type ServiceEntry, type VirtualService, type WorkloadEntry } from '../api/index.js';
import type { Json } from '../controllers/object.js';
import { hostMatches, qualifyHost } from './hosts.js';
import { labelsKey, selects } from './labels.js';
import { refKey } from './model/types.js';
import { serviceHost, serviceOfSlice, type EndpointSlice, type KubernetesService, type NodeMeta, type PodMeta } from './model/kubernetes.js';
import { delegatesOf, isDelegate } from './delegation.js';
import { destinationsOf, gatewaysOf } from './virtualservice.js';

export type ServiceAccount = Json<V1ServiceAccount>;

/** The objects the mesh reads, by kind: its own six and the core objects validation and the model consult. */
export interface DependencyObjects {
  VirtualService: VirtualService;
  DestinationRule: DestinationRule;
  Gateway: Gateway;
  ServiceEntry: ServiceEntry;
  WorkloadEntry: WorkloadEntry;
  MeshPolicy: MeshPolicy;
  Service: KubernetesService;
  EndpointSlice: EndpointSlice;
  ServiceAccount: ServiceAccount;
  Pod: PodMeta;
  Node: NodeMeta;
}
export type DependencyKind = keyof DependencyObjects;

/** An object with its kind (core objects from informers carry no `kind`). */
export type Dependent = { [K in DependencyKind]: { kind: K; obj: DependencyObjects[K] } }[DependencyKind];

/** The keys objects provide and refer to. */
export const Key = {
  /** A concrete or wildcard host: ServiceEntries, Services and DestinationRules provide it. */
  host: (fqdn: string) => `host:${fqdn}`,
  /** VirtualServices routing for a host (they compete for it). */
  routes: (fqdn: string) => `routes:${fqdn}`,
  gateway: (ref: string) => `gateway:${ref}`,
  /** A VirtualService by `namespace/name`: a root refers to its delegates so. */
  virtualService: (ref: string) => `virtualservice:${ref}`,
  /** The roots delegating to VirtualService `namespace/name` (its status names them). */
  delegatingTo: (ref: string) => `delegating-to:${ref}`,
  /** Gateways configuring one workload (port and host claims), by its selector. */
  gatewayWorkload: (selector: Record<string, string> | undefined) => `gateway-workload:${labelsKey(selector)}`,
  /** Gateways of a namespace (generated Deployments' selectors must not overlap). */
  gatewaysIn: (ns: string) => `gateways:${ns}`,
  serviceAccount: (ns: string, name: string) => `serviceaccount:${ns}/${name}`,
  workloadEntriesIn: (ns: string) => `workloadentries:${ns}`,
  serviceEntriesIn: (ns: string) => `serviceentries:${ns}`,
  /** MeshPolicies of a namespace (those of the root namespace apply to every workload). */
  policiesIn: (ns: string) => `policies:${ns}`,
  /** A Pod an EndpointSlice's endpoint names (its labels and ServiceAccount are the endpoint's). */
  pod: (ns: string, name: string) => `pod:${ns}/${name}`,
  /** A Node an endpoint runs on (its labels give the locality). */
  node: (name: string) => `node:${name}`,
} as const;

interface KindDependencies<T> {
  /** Keys under which other objects refer to this one. */
  provides(obj: T): string[];
  /** Keys whose objects this one's verdict and served config read. */
  references(obj: T): string[];
  /** Keys whose objects only this one's status message reads (watched, but never a reason to rebuild config). */
  mentions?(obj: T): string[];
  /** A reference kept only when `changed` really concerns this object (a label selector narrows a namespace key). */
  narrows?(obj: T, changed: Dependent): boolean;
  /** The concrete model hosts this object configures directly. */
  hosts(obj: T): string[];
}

const qualified = (hosts: readonly string[], ns: string) => hosts.map((h) => qualifyHost(h, ns));
const concrete = (hosts: readonly string[]) => hosts.filter((h) => !h.includes('*'));
const policyScopes = (ns: string) => [...new Set([Key.policiesIn(ns), Key.policiesIn(ROOT_NAMESPACE)])];

/** The qualified, concrete hosts a VirtualService routes for. */
export function routedHosts(vs: VirtualService): string[] {
  return concrete(qualified(vs.spec.hosts ?? [], vs.metadata.namespace!));
}

export const dependencies: { [K in DependencyKind]: KindDependencies<DependencyObjects[K]> } = {
  VirtualService: {
    provides: (vs) => [
      ...routedHosts(vs).map(Key.routes),
      Key.virtualService(`${vs.metadata.namespace}/${vs.metadata.name}`),
      ...delegatesOf(vs).map((d) => Key.delegatingTo(d.ref)),
    ],
    references: (vs) => [
      ...new Set([
        ...destinationsOf(vs).map((d) => Key.host(qualifyHost(d.destination.host, vs.metadata.namespace!))),
        ...gatewaysOf(vs).map((g) => Key.gateway(g.ref)),
        ...routedHosts(vs).map(Key.routes),
        // A change to a delegate re-validates the root and rebuilds its hosts (the delegate's routes are merged in).
        ...delegatesOf(vs).map((d) => Key.virtualService(d.ref)),
      ]),
    ],
    // A delegate's status names the roots using it.
    mentions: (vs) => (isDelegate(vs) ? [Key.delegatingTo(`${vs.metadata.namespace}/${vs.metadata.name}`)] : []),
    hosts: routedHosts,
  },
  DestinationRule: {
    provides: (dr) => [Key.host(qualifyHost(dr.spec.host, dr.metadata.namespace!))],
    references: (dr) => [Key.host(qualifyHost(dr.spec.host, dr.metadata.namespace!))],
    hosts: (dr) => concrete([qualifyHost(dr.spec.host, dr.metadata.namespace!)]),
  },
  ServiceEntry: {
    provides: (se) => [...qualified(se.spec.hosts, se.metadata.namespace!).map(Key.host), Key.serviceEntriesIn(se.metadata.namespace!)],
    references: (se) => [
      ...qualified(se.spec.hosts, se.metadata.namespace!).map(Key.host),
      ...(se.spec.workloadSelector ? [Key.workloadEntriesIn(se.metadata.namespace!)] : []),
      ...policyScopes(se.metadata.namespace!),
    ],
    narrows: (se, changed) => changed.kind !== 'WorkloadEntry' || selects(se.spec.workloadSelector?.labels, changed.obj.spec.labels),
    hosts: (se) => concrete(qualified(se.spec.hosts, se.metadata.namespace!)),
  },
  WorkloadEntry: {
    provides: (we) => [Key.workloadEntriesIn(we.metadata.namespace!)],
    references: (we) => (we.spec.serviceAccount ? [Key.serviceAccount(we.metadata.namespace!, we.spec.serviceAccount)] : []),
    // Its Accepted message names the ServiceEntries selecting it.
    mentions: (we) => [Key.serviceEntriesIn(we.metadata.namespace!)],
    hosts: () => [],
  },
  MeshPolicy: {
    provides: (p) => [Key.policiesIn(p.metadata.namespace!)],
    references: (p) => [Key.policiesIn(p.metadata.namespace!)],
    hosts: () => [],
  },
  Gateway: {
    provides: (gw) => [Key.gateway(`${gw.metadata.namespace}/${gw.metadata.name}`), Key.gatewayWorkload(gw.spec.selector), Key.gatewaysIn(gw.metadata.namespace!)],
    references: (gw) => [Key.gatewayWorkload(gw.spec.selector), Key.gatewaysIn(gw.metadata.namespace!)],
    hosts: () => [],
  },
  Service: {
    provides: (svc) => [Key.host(serviceHost(svc.metadata!.namespace!, svc.metadata!.name!))],
    references: (svc) => policyScopes(svc.metadata!.namespace!),
    hosts: (svc) => [serviceHost(svc.metadata!.namespace!, svc.metadata!.name!)],
  },
  EndpointSlice: {
    provides: () => [],
    references: (slice) => [
      ...new Set(
        (slice.endpoints ?? []).flatMap((e) => [
          ...(e.targetRef?.kind === 'Pod' && e.targetRef.name ? [Key.pod(e.targetRef.namespace ?? slice.metadata?.namespace ?? '', e.targetRef.name)] : []),
          ...(e.nodeName ? [Key.node(e.nodeName)] : []),
        ]),
      ),
    ],
    hosts: (slice) => {
      const svc = serviceOfSlice(slice);
      return svc ? [serviceHost(svc.namespace, svc.name)] : [];
    },
  },
  ServiceAccount: {
    provides: (sa) => [Key.serviceAccount(sa.metadata!.namespace!, sa.metadata!.name!)],
    references: () => [],
    hosts: () => [],
  },
  Pod: {
    provides: (pod) => [Key.pod(pod.metadata!.namespace!, pod.metadata!.name!)],
    references: () => [],
    hosts: () => [],
  },
  Node: {
    provides: (node) => [Key.node(node.metadata!.name!)],
    references: () => [],
    hosts: () => [],
  },
};

/** The declaration of `d.kind`, applied to `d.obj`. */
function declared(d: Dependent) {
  return dependencies[d.kind] as KindDependencies<Dependent['obj']>;
}
export const providedBy = (d: Dependent): string[] => declared(d).provides(d.obj);
export const referencesOf = (d: Dependent): string[] => declared(d).references(d.obj);
export const mentionsOf = (d: Dependent): string[] => declared(d).mentions?.(d.obj) ?? [];
export const hostsOf = (d: Dependent): string[] => declared(d).hosts(d.obj);
export const narrowedBy = (referrer: Dependent, changed: Dependent): boolean => declared(referrer).narrows?.(referrer.obj, changed) ?? true;

/** A wildcard host key (`host:*.example.com`) is referred to through every host it matches. */
export function keyMatches(provided: string, referenced: string): boolean {
  if (provided === referenced) return true;
  if (!provided.startsWith('host:') || !provided.includes('*') || !referenced.startsWith('host:')) return false;
  return hostMatches(provided.slice(5), referenced.slice(5));
}

/** The same key the model's contributions use (refKey), so a dependent finds what it fed the model. */
export function dependentKey(d: Dependent): string {
  return refKey({ kind: d.kind, namespace: d.obj.metadata?.namespace ?? '', name: d.obj.metadata?.name ?? '' });
}

/**
 * The objects referring to one of the keys `changed` provides, narrowed. `referrers(key)` answers from an index
 * (exact keys) or a scan (wildcard host keys); `withMentions` adds objects that only mention a key.
 */
export function directDependents(changed: Dependent, referrers: (key: string, withMentions: boolean) => Dependent[], withMentions: boolean): Dependent[] {
  const out = new Map<string, Dependent>();
  const self = dependentKey(changed);
  for (const key of providedBy(changed)) {
    for (const r of referrers(key, withMentions)) {
      const k = dependentKey(r);
      if (k !== self && narrowedBy(r, changed)) out.set(k, r);
    }
  }
  return [...out.values()];
}

/**
 * The model hosts a change can affect: its own hosts, and (transitively: a dependent's verdict, so its served config,
 * may move) those of every object depending on it. `also(d)` adds hosts known otherwise (what it fed the model last).
 */
export function affectedHosts(changed: Dependent, referrers: (key: string) => Dependent[], also: (d: Dependent) => Iterable<string> = () => []): Set<string> {
  const hosts = new Set<string>();
  const seen = new Set([dependentKey(changed)]);
  const pending = [changed];
  while (pending.length > 0) {
    const d = pending.pop()!;
    for (const h of hostsOf(d)) hosts.add(h);
    for (const h of also(d)) hosts.add(h);
    for (const r of directDependents(d, (key) => referrers(key), false)) {
      const k = dependentKey(r);
      if (seen.has(k)) continue;
      seen.add(k);
      pending.push(r);
    }
  }
  for (const h of hosts) if (h.includes('*')) hosts.delete(h);
  return hosts;
}
