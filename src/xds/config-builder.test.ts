// The builder between model and cache: a change reaches the cache as exactly the resources whose bytes changed,
// endpoints are encoded once for both kinds of proxy, and sync state follows what proxies ACK.
import { describe, expect, it } from '@jest/globals';
import { memoryInputs, MeshModelStore } from '../mesh/model/index.js';
import { edited, reviewsMesh, workloadEntry } from '../mesh/model/testing.js';
import { ResourceCache, type ChangeSet } from './cache.js';
import { ConfigBuilder, ENVOY_CLUSTERS_COLLECTION, ENVOY_COLLECTION, ENVOY_VHDS_COLLECTION, PROXYLESS_COLLECTION } from './config-builder.js';
import { TypeUrl } from './protos.js';
import { proxyFromNode } from './server/proxy.js';
import { computeSync, programmedDetails, SyncComputation, SyncMemo } from './sync-status.js';
import { TypeState } from './server/type-state.js';
import type { ConnectedProxy } from './server/stream.js';
import { decodeResource } from './resource.js';

function setup() {
  const m = reviewsMesh();
  const objects = {
    serviceAccounts: m.serviceAccounts,
    serviceEntries: [m.serviceEntry],
    workloadEntries: [m.v1, m.v2],
    destinationRules: [m.rule],
    virtualServices: [m.split],
  };
  const model = new MeshModelStore(memoryInputs(objects));
  const cache = new ResourceCache();
  const builder = new ConfigBuilder(cache, model);
  builder.update(model.rebuildAll());
  const changes: ChangeSet[] = [];
  cache.collection(PROXYLESS_COLLECTION).onChange((c) => changes.push(c));
  const flat = () => changes.flatMap((c) => [...c].flatMap(([type, names]) => [...names].map((n) => `${type.split('.').pop()} ${n}`))).sort();
  return { m, objects, model, cache, builder, changes, flat };
}

describe('ConfigBuilder', () => {
  it('pushes only the route configuration when only the weights change', () => {
    const { m, objects, model, builder, flat } = setup();
    const moved = edited(m.split, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] });
    objects.virtualServices = [moved];
    builder.update(model.recompute(model.hostsAffectedBy({ kind: 'VirtualService', obj: moved })));
    expect(flat()).toEqual([`RouteConfiguration ${m.host}:9080`]);
  });

  it('pushes only the endpoints a new WorkloadEntry joins (and the new workload\'s own server listener)', () => {
    const { m, objects, model, builder, flat } = setup();
    const v2b = workloadEntry('reviews-v2b', 'shop', '127.0.0.4', { app: 'reviews', version: 'v2' }, { serviceAccount: 'reviews' });
    objects.workloadEntries = [m.v1, m.v2, v2b];
    builder.update(model.recompute(model.hostsAffectedBy({ kind: 'WorkloadEntry', obj: v2b })));
    expect(flat()).toEqual(
      [`ClusterLoadAssignment outbound|9080||${m.host}`, `ClusterLoadAssignment outbound|9080|v2|${m.host}`, 'Listener weft/grpc/lds/inbound/127.0.0.4:9080'].sort(),
    );
  });

  it('serves the same endpoint bytes to proxyless clients and Envoy sidecars', () => {
    const { m, cache } = setup();
    const name = `outbound|9080|v1|${m.host}`;
    expect(cache.collection(PROXYLESS_COLLECTION).get(TypeUrl.endpoint, name)).toBe(cache.collection(ENVOY_CLUSTERS_COLLECTION).get(TypeUrl.endpoint, name));
  });

  it("gives an Envoy sidecar its own inbound side, from the endpoints at its address", () => {
    const { builder } = setup();
    const proxy = proxyFromNode({ id: 'sidecar~127.0.0.2~reviews-v1.shop~shop.svc.cluster.local', cluster: '', metadata: {}, user_agent_name: 'envoy' });
    const { view, release } = builder.viewFor(proxy);
    expect(view.get(TypeUrl.cluster, 'inbound|50051||')).toBeDefined();
    expect(view.get(TypeUrl.listener, 'virtualInbound')).toBeDefined();
    expect(view.get(TypeUrl.listener, '0.0.0.0_9080')).toBeDefined();
    release();
  });

  it('gives sidecars on delta xDS their virtual hosts by VHDS: a one-service change is that service\'s virtual host', async () => {
    const { m, objects, model, builder, cache } = setup();
    const sidecar = (ip: string) => proxyFromNode({ id: `sidecar~${ip}~client.shop~shop.svc.cluster.local`, cluster: '', metadata: {}, user_agent_name: 'envoy' });
    const delta = builder.viewFor(sidecar('127.0.0.9'), 'delta');
    const routes = delta.view.get(TypeUrl.route, '9080')!;
    expect(decodeResource(routes)).toMatchObject({ name: '9080', vhds: { config_source: { ads: {} } } });
    expect(decodeResource(routes).virtual_hosts).toBeUndefined();
    const vhost = () => delta.view.get(TypeUrl.virtualHost, `9080/${m.host}`)!;
    expect(decodeResource(vhost())).toMatchObject({ name: `${m.host}:9080` });
    expect(cache.collection(ENVOY_COLLECTION).get(TypeUrl.route, '9080')).toBeUndefined(); // no SotW sidecar: no inline routes built
    const before = vhost().version;
    const seen: ChangeSet[] = [];
    delta.view.onChange((c) => seen.push(c));
    const moved = edited(m.split, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] });
    objects.virtualServices = [moved];
    builder.update(model.recompute(model.hostsAffectedBy({ kind: 'VirtualService', obj: moved })));
    await Promise.resolve();
    expect(vhost().version).not.toBe(before);
    expect(seen.flatMap((c) => [...c].flatMap(([type, names]) => [...names].map((n) => `${type.split('.').pop()} ${n}`)))).toEqual([`VirtualHost 9080/${m.host}`]);
    // A SotW sidecar beside it still gets the port's routes inline; the delta one keeps reading VHDS.
    const sotw = builder.viewFor(sidecar('127.0.0.8'), 'sotw');
    expect((decodeResource(sotw.view.get(TypeUrl.route, '9080')!).virtual_hosts as unknown[]).length).toBe(1);
    expect(decodeResource(delta.view.get(TypeUrl.route, '9080')!).vhds).toBeDefined();
    // The service goes away: its virtual host and the port's VHDS route configuration with it.
    objects.virtualServices = [];
    objects.serviceEntries = [];
    builder.update(model.rebuildAll());
    expect(cache.collection(ENVOY_VHDS_COLLECTION).resources(TypeUrl.virtualHost).size).toBe(0);
    expect(delta.view.get(TypeUrl.route, '9080')).toBeUndefined();
    delta.release();
    sotw.release();
  });

  it('builds the sidecars’ per-port routes (a virtual host per service) only while a sidecar is connected', () => {
    const { m, objects, model, builder, cache } = setup();
    const routes = () => cache.collection(ENVOY_COLLECTION).get(TypeUrl.route, '9080');
    expect(routes()).toBeUndefined(); // no sidecar yet: nothing built
    const sidecar = proxyFromNode({ id: 'sidecar~127.0.0.9~client.shop~shop.svc.cluster.local', cluster: '', metadata: {}, user_agent_name: 'envoy' });
    const { release } = builder.viewFor(sidecar);
    const first = routes()!;
    expect((decodeResource(first).virtual_hosts as Array<{ name: string }>).map((v) => v.name)).toEqual([`${m.host}:9080`]);
    const moved = edited(m.split, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] });
    objects.virtualServices = [moved];
    builder.update(model.recompute(model.hostsAffectedBy({ kind: 'VirtualService', obj: moved })));
    expect(routes()!.version).not.toBe(first.version); // connected: built with the change
    release();
  });
});

describe('sync status', () => {
  /** A proxy that subscribed to the reviews route and clusters and ACKed what `ack` says. */
  function proxyHolding(cache: ResourceCache, host: string, ack: (typeUrl: string) => boolean): ConnectedProxy {
    const { view } = cache.acquireView([PROXYLESS_COLLECTION]);
    const types = new Map<string, TypeState>();
    for (const [typeUrl, names] of [
      [TypeUrl.route, [`${host}:9080`]],
      [TypeUrl.cluster, [`outbound|9080|v1|${host}`, `outbound|9080|v2|${host}`]],
    ] as const) {
      const state = new TypeState(typeUrl);
      for (const n of names) state.subscribed.add(n);
      if (ack(typeUrl)) {
        state.sent('1', { version: view.version(typeUrl), resources: names.map((n) => view.get(typeUrl, n)!), removed: [] });
        state.answered('1', undefined);
      }
      types.set(typeUrl, state);
    }
    return { streamId: 1, protocol: 'sotw', proxy: proxyFromNode({ id: 'p1', cluster: '', metadata: { GENERATOR: 'grpc' }, user_agent_name: '' }), view, connectedAt: new Date(), types };
  }

  it('counts the proxies that should have a resource and those that ACKed its current version', () => {
    const { m, cache } = setup();
    const sync = computeSync({ cache, proxies: () => [proxyHolding(cache, m.host, () => true), proxyHolding(cache, m.host, (t) => t !== TypeUrl.cluster)] });
    expect(sync.get('VirtualService/shop/reviews')).toMatchObject({ servedGeneration: 1, expected: 2, acked: 2 });
    expect(sync.get('DestinationRule/shop/reviews')).toMatchObject({ expected: 2, acked: 1 });
    expect(programmedDetails(m.rule as never, sync.get('DestinationRule/shop/reviews'))).toMatchObject({
      conditions: [{ type: 'Programmed', status: 'True' }],
      fields: { proxies: { acked: 1, expected: 2 }, synced: '1/2' },
    });
  });

  it('tells when the last proxy holding a resource current answered (what convergence is timed by)', () => {
    const { m, cache } = setup();
    const at = (ms: number, p: ConnectedProxy) => {
      for (const state of p.types.values()) state.ackedAtMs = ms;
      return p;
    };
    const early = at(1_000, proxyHolding(cache, m.host, () => true));
    const late = at(2_000, proxyHolding(cache, m.host, () => true));
    const behind = at(3_000, proxyHolding(cache, m.host, (t) => t !== TypeUrl.cluster)); // answered last, still misses the clusters
    const sync = computeSync({ cache, proxies: () => [early, late, behind] });
    expect(sync.get('VirtualService/shop/reviews')).toMatchObject({ acked: 3, lastAckAt: 3_000 });
    expect(sync.get('DestinationRule/shop/reviews')).toMatchObject({ expected: 3, acked: 2, lastAckAt: 2_000 });
  });

  it('computes in slices that end at a deadline, to the same result as all at once', () => {
    const { m, cache } = setup();
    const proxies = Array.from({ length: 40 }, (_, i) => proxyHolding(cache, m.host, (t) => i % 2 === 0 || t !== TypeUrl.cluster));
    const inputs = { cache, proxies: () => proxies };
    const sliced = new SyncComputation(inputs, new SyncMemo());
    expect(sliced.step(0)).toBeUndefined(); // the deadline has passed: nothing more this turn
    expect(sliced.step()).toEqual(computeSync(inputs));
    expect(computeSync(inputs).get('DestinationRule/shop/reviews')).toMatchObject({ expected: 40, acked: 20 });
  });

  it('says Pending while a newer generation is not served, and NotInConfig for what nothing uses', () => {
    const { m, cache } = setup();
    const sync = computeSync({ cache, proxies: () => [] });
    const newer = edited(m.split, m.split.spec);
    expect(programmedDetails(newer as never, sync.get('VirtualService/shop/reviews')).conditions![0]).toMatchObject({ status: 'Unknown', reason: 'Pending' });
    const stray = workloadEntry('stray', 'shop', '127.0.0.9', { app: 'nothing' });
    expect(programmedDetails(stray as never, sync.get('WorkloadEntry/shop/stray')).conditions![0]).toMatchObject({ status: 'False', reason: 'NotInConfig' });
  });
});
