// Small builders for mesh objects in tests: a reviews-like service with versioned workloads, and the rules on it.
import type { DestinationRule, ServiceEntry, VirtualService, WorkloadEntry } from '../../api/index.js';
import type { ServiceAccount } from '../dependencies.js';
import { SERVICE_NAME_LABEL, type EndpointSlice, type KubernetesService } from './kubernetes.js';

let clock = 0;
/** Creation times in call order, so "oldest wins" is predictable. */
function meta(name: string, namespace: string) {
  clock++;
  return { name, namespace, generation: 1, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString() };
}

export function serviceAccount(name: string, namespace: string): ServiceAccount {
  return { metadata: { name, namespace } };
}

export function serviceEntry(name: string, namespace: string, host: string, ports: ServiceEntry['spec']['ports'] = [{ number: 9080, name: 'grpc', protocol: 'GRPC' }], extra: Partial<ServiceEntry['spec']> = {}): ServiceEntry {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'ServiceEntry',
    metadata: meta(name, namespace),
    spec: { hosts: [host], ports, location: 'MESH_INTERNAL', resolution: 'STATIC', workloadSelector: { labels: { app: name } }, ...extra },
  };
}

export function workloadEntry(name: string, namespace: string, address: string, labels: Record<string, string>, extra: Partial<WorkloadEntry['spec']> = {}): WorkloadEntry {
  return { apiVersion: 'weft.dev/v1alpha1', kind: 'WorkloadEntry', metadata: meta(name, namespace), spec: { address, labels, ...extra } };
}

export function destinationRule(name: string, namespace: string, host: string, spec: Partial<DestinationRule['spec']> = {}): DestinationRule {
  return { apiVersion: 'weft.dev/v1alpha1', kind: 'DestinationRule', metadata: meta(name, namespace), spec: { host, ...spec } };
}

export function virtualService(name: string, namespace: string, hosts: string[], http: NonNullable<VirtualService['spec']['http']>, extra: Partial<VirtualService['spec']> = {}): VirtualService {
  return { apiVersion: 'weft.dev/v1alpha1', kind: 'VirtualService', metadata: meta(name, namespace), spec: { hosts, http, ...extra } };
}

/** A Kubernetes Service (ClusterIP unless `spec` says otherwise). */
export function kubeService(name: string, namespace: string, ports: NonNullable<NonNullable<KubernetesService['spec']>['ports']>, spec: KubernetesService['spec'] = {}): KubernetesService {
  return { apiVersion: 'v1', kind: 'Service', metadata: meta(name, namespace), spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports, ...spec } };
}

type SliceEndpoint = NonNullable<EndpointSlice['endpoints']>[number];

/** An IPv4 EndpointSlice of Service `service`, its endpoints ready unless they say otherwise. */
export function endpointSlice(name: string, namespace: string, service: string, ports: NonNullable<EndpointSlice['ports']>, endpoints: Array<string | SliceEndpoint>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { ...meta(name, namespace), labels: { [SERVICE_NAME_LABEL]: service } },
    addressType: 'IPv4',
    ports,
    endpoints: endpoints.map((e) => (typeof e === 'string' ? { addresses: [e], conditions: { ready: true, serving: true, terminating: false } } : e)),
  };
}

/** `obj` with its generation bumped and `spec` replaced (an edit, as the API server would store it). */
export function edited<T extends { metadata: { generation?: number }; spec: object }>(obj: T, spec: T['spec']): T {
  return { ...obj, metadata: { ...obj.metadata, generation: (obj.metadata.generation ?? 1) + 1 }, spec };
}

/** The reviews mesh: a ServiceEntry selecting two WorkloadEntries (v1, v2), subsets, and an 80/20 split. */
export function reviewsMesh(ns = 'shop') {
  const host = `reviews.${ns}.svc.cluster.local`;
  return {
    host,
    serviceAccounts: [serviceAccount('reviews', ns)],
    serviceEntry: serviceEntry('reviews', ns, host),
    v1: workloadEntry('reviews-v1', ns, '127.0.0.2', { app: 'reviews', version: 'v1' }, { serviceAccount: 'reviews', ports: { grpc: 50051 } }),
    v2: workloadEntry('reviews-v2', ns, '127.0.0.3', { app: 'reviews', version: 'v2' }, { serviceAccount: 'reviews', ports: { grpc: 50051 } }),
    rule: destinationRule('reviews', ns, 'reviews', { subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }),
    split: virtualService('reviews', ns, ['reviews'], [
      { route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] },
    ]),
  };
}
