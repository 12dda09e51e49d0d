// Proves the ground the operator stands on: a real API server that serves and watches objects, a
// kube-controller-manager that garbage-collects by ownerReference, and kwok Nodes on which Pods run.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, isNotFound, kubeConfig, throwawayNamespace } from './kube.js';

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
let ns: Awaited<ReturnType<typeof throwawayNamespace>>;

beforeAll(async () => { ns = await throwawayNamespace(kc, 'ground'); });
afterAll(async () => { await ns?.remove(); });

describe('the local control plane', () => {
  // Only a cluster this run built itself has a version we know (kind brings its own).
  const itOnOwnCluster = process.env.WEFT_E2E_OWNED_CLUSTER_DIR ? it : it.skip;
  itOnOwnCluster('reports the Kubernetes version it was built as', async () => {
    const pinned = /K8S_VERSION=(\S+)/.exec(readFileSync(join(import.meta.dirname, '../../hack/cluster/versions.env'), 'utf8'))![1];
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toBe(pinned);
  });

  it('creates a ConfigMap, watches it, and sees its deletion', async () => {
    const events: Array<{ type: string; name: string; data?: Record<string, string> }> = [];
    let watchError: unknown;
    const watch = await new k8s.Watch(kc).watch(
      `/api/v1/namespaces/${ns.name}/configmaps`,
      {},
      (type, obj: k8s.V1ConfigMap) => events.push({ type, name: obj.metadata!.name!, data: obj.data }),
      (err) => { watchError = err; },
    );
    try {
      await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'greeting' }, data: { hello: 'world' } } });
      await core.patchNamespacedConfigMap(
        { namespace: ns.name, name: 'greeting', body: { data: { hello: 'mesh' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'greeting' });
      await eventually('the DELETED event', async () => (events.some((e) => e.type === 'DELETED') ? true : undefined), 15_000);
      expect(watchError).toBeUndefined();
      expect(events.filter((e) => e.name === 'greeting').map((e) => [e.type, e.data?.hello])).toEqual([
        ['ADDED', 'world'],
        ['MODIFIED', 'mesh'],
        ['DELETED', 'mesh'],
      ]);
    } finally {
      watch.abort();
    }
  });

  it('garbage-collects a dependent when its owner is deleted (kube-controller-manager runs)', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'owner' } } });
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: {
        metadata: {
          name: 'dependent',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true }],
        },
        stringData: { token: 'x' },
      },
    });
    await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'owner', propagationPolicy: 'Background' });
    await eventually('the dependent Secret to be garbage-collected', async () => {
      try {
        await core.readNamespacedSecret({ namespace: ns.name, name: 'dependent' });
        return undefined;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    });
  });

  it("runs a Deployment's Pods on kwok Nodes", async () => {
    const labels = { app: 'hello' };
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name: 'hello' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'hello', image: 'registry.k8s.io/pause:3.10' }] } },
        },
      },
    });
    const pods = await eventually('two Running Pods', async () => {
      const list = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=hello' });
      const running = list.items.filter((p) => p.status?.phase === 'Running');
      return running.length === 2 ? running : undefined;
    });
    for (const pod of pods) {
      expect(pod.spec!.nodeName).toMatch(/^kwok-node-/);
      expect(pod.status!.podIP).toMatch(/^10\.244\./); // kwok invents these: never dial them
    }
    const deployment = await eventually('the Deployment to report 2 available replicas', async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns.name, name: 'hello' });
      return d.status?.availableReplicas === 2 ? d : undefined;
    });
    expect(deployment.status!.readyReplicas).toBe(2);

    // Deleting the Deployment garbage-collects its ReplicaSet and Pods.
    await apps.deleteNamespacedDeployment({ namespace: ns.name, name: 'hello', propagationPolicy: 'Background' });
    await eventually('the Pods to be garbage-collected', async () => {
      const list = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=hello' });
      return list.items.length === 0 ? true : undefined;
    });
  });
});
