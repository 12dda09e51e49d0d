// Informer events → the hosts they affect, over real informers on a fake API server: a Service or EndpointSlice
// change names only its own host, and a status-only Service write names none.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { FakeApiServer } from '../../controllers/fake-api-server.js';
import { startFakeCluster, type FakeCluster } from '../../controllers/fake-cluster.js';
import type { Manager } from '../../controllers/index.js';
import { MeshModelStore } from '../model/index.js';
import { endpointSlice, kubeService } from '../model/testing.js';
import { MeshState } from './mesh-state.js';
import { watchModelChanges } from './inputs.js';

const NS = 'shop';
const SERVICES = 'v1/services';
const SLICES = 'discovery.k8s.io/v1/endpointslices';
const host = (name: string) => `${name}.${NS}.svc.cluster.local`;

let server: FakeApiServer;
let manager: Manager;
let stop: () => Promise<void>;

let cluster: FakeCluster;

beforeEach(async () => {
  cluster = await startFakeCluster();
  ({ server, manager } = cluster);
});
afterEach(async () => {
  await stop?.();
  await cluster.stop();
});

/** Waits until `check` holds, polling (informer events arrive asynchronously). */
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('watchModelChanges for Kubernetes Services', () => {
  it('maps a Service or EndpointSlice change to its own host only', async () => {
    server.put(SERVICES, kubeService('reviews', NS, [{ name: 'grpc', port: 9080 }]));
    server.put(SERVICES, kubeService('ratings', NS, [{ name: 'grpc', port: 9080 }]));
    server.put(SLICES, endpointSlice('reviews-1', NS, 'reviews', [{ name: 'grpc', port: 50051 }], ['10.244.0.5']));
    server.put(SLICES, endpointSlice('ratings-1', NS, 'ratings', [{ name: 'grpc', port: 50051 }], ['10.244.0.9']));

    const state = new MeshState(manager);
    const informers = state.informers;
    const store = new MeshModelStore(state.inputs);
    const all = state.allInformers();
    for (const i of all) i.start();
    stop = async () => {
      await Promise.all(all.map((i) => i.stop()));
    };
    expect(await Promise.all(all.map((i) => i.waitForSync()))).toEqual(all.map(() => true));
    store.rebuildAll();
    expect(store.service(host('reviews'))!.endpoints.map((e) => e.address)).toEqual(['10.244.0.5']);

    const heard: string[][] = [];
    const unwatch = watchModelChanges(informers, store, (_ns, hosts) => heard.push([...hosts].sort()));
    try {
      // A scale-up in one slice: only its Service's host.
      server.put(SLICES, endpointSlice('reviews-1', NS, 'reviews', [{ name: 'grpc', port: 50051 }], ['10.244.0.5', '10.244.0.6']));
      await until('the slice change', () => heard.length > 0);
      expect(heard).toEqual([[host('reviews')], [host('reviews')]]); // the old and the new slice: the same host
      const ratings = store.service(host('ratings'));
      expect([...store.recompute(heard.flat())]).toEqual([host('reviews')]);
      expect(store.service(host('reviews'))!.endpoints.map((e) => e.address)).toEqual(['10.244.0.5', '10.244.0.6']);
      expect(store.service(host('ratings'))).toBe(ratings);

      // A status-only write to a Service is nothing to the model; the spec change after it is (same watch, in order).
      heard.length = 0;
      server.put(SERVICES, { ...server.get(SERVICES, NS, 'reviews')!, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } } as never);
      server.put(SERVICES, kubeService('ratings', NS, [{ name: 'grpc', port: 9081 }]));
      await until('the Service spec change', () => heard.length > 0);
      expect(heard[0]).toEqual([host('ratings')]);
    } finally {
      unwatch();
    }
  });
});
