// Kubernetes workloads as mesh endpoints, on the real API server: Deployments reviews-v1/v2 (kwok runs their Pods)
// behind Service reviews, a DestinationRule with subsets by the Pods' `version` label and a VirtualService 80/20.
// Each subset cluster's EDS holds exactly the IPs of that version's ready Pods (compared, never dialled) and follows
// scaling and readiness; then real RPCs from a grpc-js-xds client reach gRPC servers standing in for the Pods (the client's pod
// network delivers each Pod IP to a loopback address: see client-process.ts), split 80/20.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, kubectl, startLeader, type RunningOperator } from './operator.js';
import { startBackend, type Backend } from './xds/backends.js';
import { expectShare, tally, XdsClient } from './xds/clients.js';
import { EdsWatcher } from './xds/eds-watcher.js';
import { apply, kubeService, readyPodIPs as readyPodIPsOf, waitForCondition, type Obj } from './xds/mesh.js';

const kc = kubeConfig();
let ns: { name: string; remove: () => Promise<void> };
let operator: RunningOperator;
let xdsPort: number;
let podPort: number;
const backends: Backend[] = [];
const clients: XdsClient[] = [];
const watchers: EdsWatcher[] = [];
const host = () => `reviews.${ns.name}.svc.cluster.local`;

function deployment(version: string, replicas: number): Obj {
  const labels = { app: 'reviews', version };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `reviews-${version}` },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'reviews', image: 'registry.k8s.io/pause:3.10' }] } } },
  };
}

/** The IPs of the ready Pods labelled version=`version`. */
const readyPodIPs = (version: string) => readyPodIPsOf(ns.name, `app=reviews,version=${version}`);

/** Waits until the subset cluster's EDS lists exactly the ready Pods of `version` (`replicas` of them). */
function converged(watcher: EdsWatcher, version: string, replicas: number): Promise<string[]> {
  return eventually(`EDS of subset ${version} to list its ${replicas} ready Pods`, async () => {
    const ips = readyPodIPs(version);
    watcher.servesExactly(ips, podPort, replicas);
    return ips;
  }, 90_000, 500);
}

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'pods');
  xdsPort = await freePort();
  podPort = await freePort();
  operator = await startLeader(kc, 'pods-operator', [`--xds-port=${xdsPort}`]);
}, 120_000);

afterAll(async () => {
  for (const w of watchers) w.close();
  for (const c of clients) await c.stop();
  await operator?.stop();
  for (const b of backends) await b.stop();
  await ns?.remove();
});

describe('Pods as mesh endpoints', () => {
  it('subsets by Pod label: EDS holds exactly each version\'s ready Pods and follows scaling; 2000 real RPCs split 80/20', async () => {
    apply(
      ns.name,
      kubeService('reviews', { app: 'reviews' }, podPort),
      deployment('v1', 2),
      deployment('v2', 1),
      {
        kind: 'DestinationRule',
        metadata: { name: 'reviews' },
        spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
      },
      {
        kind: 'VirtualService',
        metadata: { name: 'reviews' },
        spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] }] },
      },
    );
    await waitForCondition(ns.name, 'VirtualService', 'reviews', 'Ready', 'True', () => true, 60_000);
    const v1 = EdsWatcher.watch(`127.0.0.1:${xdsPort}`, 'reviews-v1-watcher', `outbound|9080|v1|${host()}`);
    const v2 = EdsWatcher.watch(`127.0.0.1:${xdsPort}`, 'reviews-v2-watcher', `outbound|9080|v2|${host()}`);
    watchers.push(v1, v2);
    const v1Pods = await converged(v1, 'v1', 2);
    await converged(v2, 'v2', 1);

    kubectl('scale', 'deployment', 'reviews-v2', '-n', ns.name, '--replicas=2');
    const v2Pods = await converged(v2, 'v2', 2);
    expect(await converged(v1, 'v1', 2)).toEqual(v1Pods); // the other subset did not move

    // Real traffic: a gRPC server per Pod, on its own loopback address and the Pods' port.
    const podNetwork: Record<string, string> = {};
    for (const [i, ip] of [...v1Pods.map((ip) => ['v1', ip] as const), ...v2Pods.map((ip) => ['v2', ip] as const)].entries()) {
      const [version, podIP] = ip;
      const b = await startBackend(`reviews-${version}-${i}`, `127.0.1.${i + 10}`, podPort);
      backends.push(b);
      podNetwork[podIP] = b.address;
    }
    const c = await XdsClient.start({ xdsPort, target: `${host()}:9080`, nodeId: 'pods-client', podNetwork });
    clients.push(c);
    await eventually('RPCs to the Pods to succeed', async () => {
      const results = await c.run(20, { concurrency: 4, deadlineMs: 2000 });
      return results.every((r) => r.code === 0) ? true : undefined;
    }, 60_000, 500);
    const counts = tally(await c.run(2000, { concurrency: 8 }));
    const byVersion = (v: string) => Object.entries(counts).filter(([name]) => name.startsWith(`reviews-${v}-`)).reduce((n, [, k]) => n + k, 0);
    console.log(`Pods behind reviews: ${JSON.stringify(counts)}`);
    expect(byVersion('v1') + byVersion('v2')).toBe(2000);
    expectShare(byVersion('v1'), 2000, 0.8);
    // Every Pod of a version takes part (round robin within the subset).
    expect(Object.keys(counts).length).toBe(v1Pods.length + v2Pods.length);

    // A Pod turning not-ready leaves its subset's EDS (kwok keeps the status it is given).
    const v1Names = (JSON.parse(kubectl('get', 'pods', '-n', ns.name, '-l', 'version=v1', '-o', 'json')) as { items: Array<{ metadata: { name: string }; status: { podIP: string } }> }).items;
    const sick = v1Names[0]!;
    kubectl('patch', 'pod', sick.metadata.name, '-n', ns.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'False' }] } }));
    const left = await converged(v1, 'v1', 1);
    expect(left).not.toContain(sick.status.podIP);
    expect(await converged(v2, 'v2', 2)).toEqual(v2Pods);
  }, 240_000);
});
