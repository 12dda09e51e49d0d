// Pods as endpoints: an EndpointSlice endpoint that names its Pod carries the Pod's labels and ServiceAccount and
// its Node's locality, so DestinationRule subsets by label select Pods; a Pod's relabel recomputes its Service.
import { describe, expect, it } from '@jest/globals';
import { memoryInputs } from './inputs.js';
import { nodeLocality, stripNode, stripPod, type NodeMeta, type PodMeta } from './kubernetes.js';
import { MeshModelStore } from './store.js';
import { destinationRule, endpointSlice, kubeService } from './testing.js';

const NS = 'shop';
const HOST = `reviews.${NS}.svc.cluster.local`;

const pod = (name: string, labels: Record<string, string>, node = 'node-a'): PodMeta =>
  stripPod({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, uid: `uid-${name}`, resourceVersion: '1', labels, annotations: { big: 'x'.repeat(1000) } },
    spec: { serviceAccountName: 'reviews', nodeName: node, containers: [{ name: 'app', image: 'reviews:1', env: [{ name: 'A', value: 'b' }] }] },
    status: { podIP: '10.244.0.5', phase: 'Running' },
  });
const node = (name: string, labels: Record<string, string>): NodeMeta => stripNode({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { ...labels, 'kubernetes.io/os': 'linux' } } });
const podEndpoint = (ip: string, name: string, ready = true) => ({
  addresses: [ip],
  conditions: { ready, serving: ready, terminating: false },
  nodeName: 'node-a',
  targetRef: { kind: 'Pod', namespace: NS, name },
});

function mesh() {
  const objects = {
    services: [kubeService('reviews', NS, [{ name: 'grpc', port: 9080 }])],
    endpointSlices: [endpointSlice('reviews-1', NS, 'reviews', [{ name: 'grpc', port: 50051 }], [podEndpoint('10.244.0.5', 'reviews-v1-a'), podEndpoint('10.244.0.6', 'reviews-v2-a'), podEndpoint('10.244.0.7', 'reviews-v2-b', false)])],
    pods: [pod('reviews-v1-a', { app: 'reviews', version: 'v1' }), pod('reviews-v2-a', { app: 'reviews', version: 'v2' }), pod('reviews-v2-b', { app: 'reviews', version: 'v2' })],
    nodes: [node('node-a', { 'topology.kubernetes.io/region': 'eu', 'topology.kubernetes.io/zone': 'eu-1' })],
    destinationRules: [destinationRule('reviews', NS, 'reviews', { subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] })],
  };
  const store = new MeshModelStore(memoryInputs(objects));
  store.rebuildAll();
  return { objects, store };
}

describe('Pods as endpoints', () => {
  it("gives each ready endpoint its Pod's labels and ServiceAccount and its Node's locality", () => {
    const { store } = mesh();
    expect(store.service(HOST)!.endpoints.map((e) => [e.address, e.labels.version, e.serviceAccount, e.locality])).toEqual([
      ['10.244.0.5', 'v1', 'reviews', 'eu/eu-1'],
      ['10.244.0.6', 'v2', 'reviews', 'eu/eu-1'],
    ]);
    expect(store.service(HOST)!.policy!.subsets.map((s) => s.name)).toEqual(['v1', 'v2']);
  });

  it("recomputes the Pod's Service when the Pod is relabelled, and only that", () => {
    const { objects, store } = mesh();
    const relabelled = pod('reviews-v1-a', { app: 'reviews', version: 'v2' });
    objects.pods = [relabelled, ...objects.pods.slice(1)];
    const affected = store.hostsAffectedBy({ kind: 'Pod', obj: relabelled });
    expect([...affected]).toEqual([HOST]);
    store.recompute(affected);
    expect(store.service(HOST)!.endpoints.map((e) => e.labels.version)).toEqual(['v2', 'v2']);
  });

  it('keeps a few fields of a Pod or Node, nothing else', () => {
    const p = pod('small', { app: 'x' });
    expect(p).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'small', namespace: NS, uid: 'uid-small', resourceVersion: '1', labels: { app: 'x' } },
      spec: { containers: [], serviceAccountName: 'reviews', nodeName: 'node-a' },
    });
    expect(JSON.stringify(p).length).toBeLessThan(250);
    expect(node('n', { 'topology.kubernetes.io/zone': 'z' }).metadata!.labels).toEqual({ 'topology.kubernetes.io/zone': 'z' });
    expect(nodeLocality(node('n', { 'topology.kubernetes.io/zone': 'z' }))).toBe('/z');
    expect(nodeLocality(node('n', {}))).toBeUndefined();
  });
});
