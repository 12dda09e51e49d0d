// Mesh objects for the xDS e2e tests, applied with kubectl as a user would, and waits on their status.
import { execFileSync } from 'node:child_process';
import { resources, type MeshKind } from '../../../src/api/index.js';
import { eventually } from '../kube.js';
import { kubectl, kubectlPath } from '../operator.js';
import type { Backend } from './backends.js';

export type Obj = { apiVersion?: string; kind: string; metadata: { name: string; namespace?: string }; spec: unknown };

export function apply(namespace: string, ...objects: Obj[]): void {
  const docs = objects.map((o) => ({ apiVersion: o.apiVersion ?? 'weft.dev/v1alpha1', ...o, metadata: { ...o.metadata, namespace } }));
  execFileSync(kubectlPath(), ['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The name kubectl knows a kind by: Weft's by their full names (Istio's CRDs may be installed beside them). */
export function kindName(kind: string): string {
  const mesh = resources[kind as MeshKind];
  return mesh ? `${mesh.plural}.${mesh.group}` : kind.toLowerCase();
}

export function remove(namespace: string, kind: string, name: string): void {
  kubectl('delete', kindName(kind), name, '-n', namespace, '--ignore-not-found', '--wait=false');
}

interface Status {
  observedGeneration?: number;
  conditions?: Array<{ type: string; status: string; reason: string; message: string; observedGeneration?: number }>;
  proxies?: { acked: number; expected: number };
  synced?: string;
}

export function statusOf(namespace: string, kind: string, name: string): { generation: number; status: Status } {
  const obj = JSON.parse(kubectl('get', kindName(kind), name, '-n', namespace, '-o', 'json')) as { metadata: { generation: number }; status?: Status };
  return { generation: obj.metadata.generation, status: obj.status ?? {} };
}

/** Waits until `kind/name` has condition `type`=`status` for its current generation (and `check`, if given). */
export function waitForCondition(namespace: string, kind: string, name: string, type: string, status: string, check: (s: Status) => boolean = () => true, timeoutMs = 30_000) {
  return eventually(`${kind} ${namespace}/${name} ${type}=${status}`, async () => {
    const { generation, status: s } = statusOf(namespace, kind, name);
    const c = s.conditions?.find((x) => x.type === type);
    return c?.status === status && c.observedGeneration === generation && check(s) ? s : undefined;
  }, timeoutMs, 500);
}

export const serviceAccount = (name: string): Obj => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name }, spec: undefined });

export function serviceEntry(name: string, host: string, app = name): Obj {
  return {
    kind: 'ServiceEntry',
    metadata: { name },
    spec: { hosts: [host], ports: [{ number: 9080, name: 'grpc', protocol: 'GRPC' }], location: 'MESH_INTERNAL', resolution: 'STATIC', workloadSelector: { labels: { app } } },
  };
}

export function workloadEntry(name: string, backend: Backend, labels: Record<string, string>, serviceAccountName: string): Obj {
  return { kind: 'WorkloadEntry', metadata: { name }, spec: { address: backend.address, ports: { grpc: backend.port }, labels, serviceAccount: serviceAccountName } };
}

export function destinationRule(name: string, host: string, spec: Record<string, unknown> = {}): Obj {
  return {
    kind: 'DestinationRule',
    metadata: { name },
    spec: { host, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }], ...spec },
  };
}

export function virtualService(name: string, host: string, http: unknown[]): Obj {
  return { kind: 'VirtualService', metadata: { name }, spec: { hosts: [host], http } };
}

/** The 80/20-style split between subsets v1 and v2. */
export function split(host: string, v1: number, v2: number): unknown[] {
  return [{ route: [{ destination: { host, subset: 'v1' }, weight: v1 }, { destination: { host, subset: 'v2' }, weight: v2 }] }];
}

/** A Kubernetes Service with one gRPC port (9080 → `targetPort`); selector-less (endpoints by hand) without `selector`. */
export function kubeService(name: string, selector?: Record<string, string>, targetPort = 9080): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ name: 'grpc', port: 9080, targetPort, protocol: 'TCP' }], ...(selector ? { selector } : {}) },
  };
}

/** A hand-made EndpointSlice of Service `service`: ready endpoints at `addresses`, all on `port` (its port `grpc`). */
export function endpointSlice(name: string, service: string, port: number, addresses: string[]): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': service } } as Obj['metadata'],
    spec: undefined,
    ...{
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port, protocol: 'TCP' }],
      endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
    },
  };
}

/** The IPs of the Pods matching `selector` in `namespace` that are Ready (what the EndpointSlice controller publishes as ready), sorted. */
export function readyPodIPs(namespace: string, selector: string): string[] {
  const pods = JSON.parse(kubectl('get', 'pods', '-n', namespace, '-l', selector, '-o', 'json')) as {
    items: Array<{ metadata: { deletionTimestamp?: string }; status?: { podIP?: string; conditions?: Array<{ type: string; status: string }> } }>;
  };
  return pods.items
    .filter((p) => !p.metadata.deletionTimestamp && p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => p.status!.podIP!)
    .sort();
}
