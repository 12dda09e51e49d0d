// Kubernetes Services and their EndpointSlices as mesh services, on the real API server: (1) a Deployment's
// Service, whose slices kube-controller-manager writes from kwok's Pods (their 10.x IPs are only ever compared,
// never dialled), checked over a raw ADS stream; (2) selector-less Services with hand-made slices for gRPC
// backends on 127.0.0.x (through a stand-in Pod network: see client-process.ts), called by real grpc-js-xds
// clients, with a VirtualService splitting between two.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, kubectl, startLeader, type RunningOperator } from './operator.js';
import { startBackend, type Backend } from './xds/backends.js';
import { expectShare, tally, XdsClient, type CallResult } from './xds/clients.js';
import { EdsWatcher } from './xds/eds-watcher.js';
import { apply, endpointSlice, kubeService, readyPodIPs as readyPodIPsOf, waitForCondition, type Obj } from './xds/mesh.js';

const kc = kubeConfig();
let ns: { name: string; remove: () => Promise<void> };
let operator: RunningOperator;
let xdsPort: number;
const backends: Backend[] = [];
const clients: XdsClient[] = [];
const watchers: EdsWatcher[] = [];

const hostOf = (name: string) => `${name}.${ns.name}.svc.cluster.local`;

async function backend(name: string, address: string): Promise<Backend> {
  const b = await startBackend(name, address);
  backends.push(b);
  return b;
}

async function client(target: string, nodeId: string, podNetwork: Record<string, string>): Promise<XdsClient> {
  const c = await XdsClient.start({ xdsPort, target, nodeId, podNetwork });
  clients.push(c);
  return c;
}

const readyPodIPs = (app: string) => readyPodIPsOf(ns.name, `app=${app}`);

function deployment(name: string, replicas: number): Obj {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: 'registry.k8s.io/pause:3.10' }] } } },
  };
}

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'ksvc');
  xdsPort = await freePort();
  operator = await startLeader(kc, 'ksvc-operator', [`--xds-port=${xdsPort}`]);
}, 120_000);

afterAll(async () => {
  for (const w of watchers) w.close();
  for (const c of clients) await c.stop();
  await operator?.stop();
  for (const b of backends) await b.stop();
  await ns?.remove();
});

describe('Kubernetes Services and EndpointSlices as mesh services', () => {
  it("serves a Deployment's Service: EDS lists exactly its ready Pod IPs on the target port, and follows scaling", async () => {
    apply(ns.name, kubeService('web', { app: 'web' }, 8080), deployment('web', 2));
    const cluster = `outbound|9080||${hostOf('web')}`;
    const watcher = EdsWatcher.watch(`127.0.0.1:${xdsPort}`, 'web-eds-watcher', cluster);
    watchers.push(watcher);

    // The same set from both sides: the Pods kwok runs, and the endpoints the operator serves (never dialled).
    const converged = async (replicas: number) =>
      eventually(`EDS for ${cluster} to list the ${replicas} ready Pods`, async () => watcher.servesExactly(readyPodIPs('web'), 8080, replicas), 90_000, 500);

    const two = await converged(2);
    expect(two.every((a) => /^10\.\d+\.\d+\.\d+:8080$/.test(a))).toBe(true);

    kubectl('scale', 'deployment', 'web', '-n', ns.name, '--replicas=3');
    const three = await converged(3);
    expect(three).toEqual(expect.arrayContaining(two));

    // Scaled down, the terminating Pods leave EDS (not ready) as soon as their slices say so.
    kubectl('scale', 'deployment', 'web', '-n', ns.name, '--replicas=1');
    const one = await converged(1);
    expect(three).toEqual(expect.arrayContaining(one));
  });

  it('routes real RPCs to hand-made EndpointSlice backends, and splits between two Services by weight', async () => {
    const [a1, a2, b1] = [await backend('echo-a-1', '127.0.0.161'), await backend('echo-a-2', '127.0.0.162'), await backend('echo-b-1', '127.0.0.163')];
    // The API server refuses loopback addresses in slices: each backend gets a "Pod IP" from TEST-NET-2 that the
    // clients' pod network (client-process.ts) delivers to its 127.0.0.x. A slice per backend: each has its own port.
    const podIP = (b: Backend) => b.address.replace(/^127\.0\.0\./, '198.51.100.');
    const podNetwork = Object.fromEntries([a1, a2, b1].map((b) => [podIP(b), b.address]));
    apply(
      ns.name,
      kubeService('echo-a'),
      kubeService('echo-b'),
      kubeService('echo'),
      endpointSlice('echo-a-1', 'echo-a', a1.port, [podIP(a1)]),
      endpointSlice('echo-a-2', 'echo-a', a2.port, [podIP(a2)]),
      endpointSlice('echo-b-1', 'echo-b', b1.port, [podIP(b1)]),
    );

    const direct = await client(`${hostOf('echo-a')}:9080`, 'echo-a-client', podNetwork);
    const both = await eventually('RPCs to echo-a to reach both of its slices', async () => {
      const results = await direct.run(40, { concurrency: 4, deadlineMs: 2000 });
      return results.every((r) => r.code === 0) && new Set(results.map((r) => r.backend)).size === 2 ? results : undefined;
    }, 60_000, 500);
    expect(new Set(both.map((r) => r.backend))).toEqual(new Set(['echo-a-1', 'echo-a-2']));
    expect(tally(await direct.run(100, { concurrency: 4 }))['echo-b-1']).toBeUndefined();

    // A deleted slice takes its backend out of the Service; put back, the backend serves again.
    kubectl('delete', 'endpointslice', 'echo-a-2', '-n', ns.name);
    await eventually('echo-a-2 to leave the endpoints', async () => {
      const results = await direct.run(40, { concurrency: 4, deadlineMs: 2000 });
      return results.every((r) => r.backend === 'echo-a-1') ? true : undefined;
    }, 60_000, 500);
    const before = a2.calls;
    expect(tally(await direct.run(100, { concurrency: 4 }))).toEqual({ 'echo-a-1': 100 });
    expect(a2.calls).toBe(before);
    apply(ns.name, endpointSlice('echo-a-2', 'echo-a', a2.port, [podIP(a2)]));
    await eventually('echo-a-2 to serve again', async () => {
      const results = await direct.run(40, { concurrency: 4, deadlineMs: 2000 });
      return results.every((r) => r.code === 0) && results.some((r) => r.backend === 'echo-a-2') ? true : undefined;
    }, 60_000, 500);

    // `echo` has no endpoints of its own: its VirtualService sends 70% to echo-a and 30% to echo-b.
    apply(ns.name, {
      kind: 'VirtualService',
      metadata: { name: 'echo' },
      spec: { hosts: ['echo'], http: [{ route: [{ destination: { host: 'echo-a' }, weight: 70 }, { destination: { host: 'echo-b' }, weight: 30 }] }] },
    });
    await waitForCondition(ns.name, 'VirtualService', 'echo', 'Programmed', 'True');
    const front = await client(`${hostOf('echo')}:9080`, 'echo-client', podNetwork);
    await eventually('RPCs to echo to succeed', async () => {
      const results: CallResult[] = await front.run(20, { concurrency: 4, deadlineMs: 2000 });
      return results.every((r) => r.code === 0) ? true : undefined;
    }, 60_000, 500);
    const counts = tally(await front.run(2000, { concurrency: 8 }));
    console.log(`split between Services: ${JSON.stringify(counts)}`);
    const toA = (counts['echo-a-1'] ?? 0) + (counts['echo-a-2'] ?? 0);
    expect(toA + (counts['echo-b-1'] ?? 0)).toBe(2000);
    expectShare(toA, 2000, 0.7);
  });
});
