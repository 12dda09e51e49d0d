// The ADS protocol state machine, SotW and delta, against the real server on 127.0.0.1 with a raw stream harness.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ResourceCache, type ResourceCollection } from '../cache.js';
import { TypeUrl } from '../protos.js';
import { encodeResource, type XdsResource } from '../resource.js';
import { AdsTestClient, type DeltaTestStream, type SotwTestStream } from '../testing/ads-client.js';
import { AdsServer } from './ads-server.js';
import type { ConnectedProxy } from './stream.js';

const node = { id: 'proxy-1', locality: { zone: 'z1' }, user_agent_name: 'gRPC Node Pure JS' };

const cluster = (name: string, lb: string = 'ROUND_ROBIN'): XdsResource =>
  encodeResource(TypeUrl.cluster, name, { name, type: 'EDS', lb_policy: lb, eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } } });
const listener = (name: string, route: string): XdsResource =>
  encodeResource(TypeUrl.listener, name, {
    name,
    api_listener: {
      api_listener: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        rds: { route_config_name: route, config_source: { ads: {}, resource_api_version: 'V3' } },
      },
    },
  });
const routes = (name: string, clusterName: string): XdsResource =>
  encodeResource(TypeUrl.route, name, { name, virtual_hosts: [{ name, domains: ['*'], routes: [{ match: { prefix: '' }, route: { cluster: clusterName } }] }] });
const endpoints = (name: string, port: number): XdsResource =>
  encodeResource(TypeUrl.endpoint, name, {
    cluster_name: name,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.2', port_value: port } } } }] }],
  });

let cache: ResourceCache;
let collection: ResourceCollection;
let server: AdsServer;
let client: AdsTestClient;
const answers: Array<{ proxy: string; typeUrl: string; acked: boolean; error?: string }> = [];

beforeAll(() => {
  // Loading the protos takes a moment; do it before the first timed wait.
  cluster('warm-up');
});

beforeEach(async () => {
  cache = new ResourceCache({ controlPlaneId: 'weft-test' });
  collection = cache.collection('mesh');
  server = new AdsServer({
    openView: () => cache.acquireView(['mesh']),
    onAnswer: (p, typeUrl, outcome) =>
      answers.push({ proxy: p.proxy!.id, typeUrl, acked: outcome.acked, ...(outcome.acked ? {} : { error: outcome.rejection.error }) }),
  });
  const port = await server.listen('127.0.0.1', 0);
  client = new AdsTestClient(`127.0.0.1:${port}`);
  answers.length = 0;
});

afterEach(() => {
  client.close();
  server.stop();
});

afterAll(() => undefined);

const connected = (): ConnectedProxy => [...server.connected()][0]!;

/** Waits until the server has processed what the test sent (requests travel over a real connection). */
async function serverSees(check: (p: ConnectedProxy) => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const p = connected();
    if (p && check(p)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the server never saw the request');
}
const names = (r: { resources: Array<{ name: string }> }) => r.resources.map((x) => x.name).sort();

describe('SotW', () => {
  let s: SotwTestStream;
  beforeEach(() => {
    s = client.sotw();
  });
  afterEach(() => s.close());

  it('remembers a name requested before it exists and sends it when it appears', async () => {
    s.send({ node, type_url: TypeUrl.listener, resource_names: ['reviews:9080'] });
    expect(await s.quiet()).toBe(true);
    collection.apply({ upsert: [listener('reviews:9080', 'reviews:9080'), listener('other:1', 'other:1')] });
    const res = await s.next();
    expect(res).toMatchObject({ type_url: TypeUrl.listener, version_info: '1' });
    expect(names(res)).toEqual(['reviews:9080']); // only what was asked for: no wildcard for explicit names
    s.ack(res, ['reviews:9080']);
    expect(await s.quiet()).toBe(true); // an ACK is not answered
    expect(connected().types.get(TypeUrl.listener)).toMatchObject({ ackedVersion: '1', lastNonce: res.nonce });
  });

  it('treats an empty first CDS request as wildcard and sends the full state, removals included', async () => {
    collection.apply({ upsert: [cluster('a'), cluster('b')] });
    s.send({ node, type_url: TypeUrl.cluster });
    const first = await s.next();
    expect(names(first)).toEqual(['a', 'b']);
    s.ack(first, []);
    collection.apply({ remove: [{ typeUrl: TypeUrl.cluster, name: 'a' }] });
    const second = await s.next();
    expect(names(second)).toEqual(['b']); // full state: a is deleted by its absence
    expect(Number(second.version_info)).toBeGreaterThan(Number(first.version_info));
  });

  it('answers an empty wildcard with an empty response, so an Envoy can finish initializing', async () => {
    s.send({ node, type_url: TypeUrl.listener });
    const res = await s.next();
    expect(res.resources).toEqual([]);
  });

  it('sends only the changed RDS/EDS resources', async () => {
    collection.apply({ upsert: [routes('r1', 'c1'), routes('r2', 'c2')] });
    s.send({ node, type_url: TypeUrl.route, resource_names: ['r1', 'r2'] });
    const first = await s.next();
    expect(names(first)).toEqual(['r1', 'r2']);
    s.ack(first, ['r1', 'r2']);
    collection.apply({ upsert: [routes('r2', 'c3')] });
    const second = await s.next();
    expect(names(second)).toEqual(['r2']);
    expect(second.resources[0]!.message).toMatchObject({ virtual_hosts: [{ routes: [{ route: { cluster: 'c3' } }] }] });
  });

  it('does not answer an unchanged resource', async () => {
    collection.apply({ upsert: [routes('r1', 'c1')] });
    s.send({ node, type_url: TypeUrl.route, resource_names: ['r1'] });
    s.ack(await s.next(), ['r1']);
    collection.apply({ upsert: [routes('r1', 'c1')] }); // same bytes, same version
    expect(await s.quiet()).toBe(true);
  });

  it('resends a newly requested resource even if it was sent before', async () => {
    collection.apply({ upsert: [endpoints('e1', 1), endpoints('e2', 2)] });
    s.send({ node, type_url: TypeUrl.endpoint, resource_names: ['e1'] });
    const a = await s.next();
    s.send({ type_url: TypeUrl.endpoint, version_info: a.version_info, response_nonce: a.nonce, resource_names: [] });
    expect(await s.quiet()).toBe(true);
    s.send({ type_url: TypeUrl.endpoint, version_info: a.version_info, response_nonce: a.nonce, resource_names: ['e1', 'e2'] });
    const b = await s.next();
    expect(names(b)).toEqual(['e1', 'e2']);
  });

  it('keeps the last good version on a NACK, records the error, and does not resend', async () => {
    collection.apply({ upsert: [cluster('c1')] });
    s.send({ node, type_url: TypeUrl.cluster, resource_names: ['c1'] });
    const good = await s.next();
    s.ack(good, ['c1']);
    collection.apply({ upsert: [cluster('c1', 'MAGLEV')] });
    const bad = await s.next();
    s.send({
      type_url: TypeUrl.cluster,
      version_info: good.version_info, // a NACK carries the last version the proxy accepted
      response_nonce: bad.nonce,
      resource_names: ['c1'],
      error_detail: { code: 14, message: 'resource index 0: Cluster message validation failed: [unsupported lb_policy: MAGLEV]' },
    });
    expect(await s.quiet()).toBe(true);
    const state = connected().types.get(TypeUrl.cluster)!;
    expect(state.ackedVersion).toBe(good.version_info);
    expect(state.lastRejection).toMatchObject({ version: bad.version_info, error: expect.stringContaining('MAGLEV') });
    expect(state.rejected.get('c1')?.error).toContain('unsupported lb_policy');
    expect(answers.filter((a) => !a.acked)).toEqual([{ proxy: 'proxy-1', typeUrl: TypeUrl.cluster, acked: false, error: expect.stringContaining('MAGLEV') }]);
    // A fixed config is sent, accepted, and clears the rejection.
    collection.apply({ upsert: [cluster('c1', 'RING_HASH')] });
    const fixed = await s.next();
    s.ack(fixed, ['c1']);
    expect(await s.quiet()).toBe(true);
    expect(state.lastRejection).toBeUndefined();
    expect(state.rejected.size).toBe(0);
  });

  it('never answers a request with a stale nonce', async () => {
    collection.apply({ upsert: [routes('r1', 'c1'), routes('r2', 'c2')] });
    s.send({ node, type_url: TypeUrl.route, resource_names: ['r1'] });
    const first = await s.next();
    collection.apply({ upsert: [routes('r1', 'c9')] });
    const second = await s.next();
    // The proxy answers the first response after the second was sent, asking for r2 too: stale, ignored.
    s.send({ type_url: TypeUrl.route, version_info: first.version_info, response_nonce: first.nonce, resource_names: ['r1', 'r2'] });
    expect(await s.quiet()).toBe(true);
    // Its request for the latest response carries the same subscription and is answered.
    s.send({ type_url: TypeUrl.route, version_info: second.version_info, response_nonce: second.nonce, resource_names: ['r1', 'r2'] });
    expect(names(await s.next())).toEqual(['r2']);
  });

  it('pushes clusters, then endpoints, listeners, routes, and removes stale clusters last', async () => {
    collection.apply({ upsert: [cluster('old'), endpoints('old', 1), listener('l', 'r'), routes('r', 'old')] });
    s.send({ node, type_url: TypeUrl.cluster });
    s.ack(await s.next(), []);
    s.send({ type_url: TypeUrl.endpoint, resource_names: ['old', 'new'] });
    s.ack(await s.next(), ['old', 'new']);
    s.send({ type_url: TypeUrl.listener });
    s.ack(await s.next(), []);
    s.send({ type_url: TypeUrl.route, resource_names: ['r'] });
    s.ack(await s.next(), ['r']);

    // One change: the route moves from cluster old to cluster new.
    collection.apply({
      upsert: [cluster('new'), endpoints('new', 2), routes('r', 'new')],
      remove: [{ typeUrl: TypeUrl.cluster, name: 'old' }],
    });
    const order: Array<[string, string[]]> = [];
    for (let i = 0; i < 4; i++) {
      const res = await s.next();
      order.push([res.type_url.split('.').pop()!, names(res)]);
    }
    expect(order).toEqual([
      ['Cluster', ['new', 'old']], // make before break: old stays while the route still uses it
      ['ClusterLoadAssignment', ['new']],
      ['RouteConfiguration', ['r']],
      ['Cluster', ['new']], // then it goes
    ]);
  });

  it('rejects a stream whose first request has no node', async () => {
    s.send({ type_url: TypeUrl.cluster });
    await expect(s.next()).rejects.toThrow(/must carry the node/);
  });

  it('gives streams of one view that send the same names what exists now, and recognises their ACKs', async () => {
    // Two proxies on one view: a list one of them sent is resolved once for both, until the type changes.
    const other = client.sotw();
    try {
      collection.apply({ upsert: [listener('a:80', 'a'), endpoints('e', 1)] });
      other.send({ node: { ...node, id: 'proxy-2' }, type_url: TypeUrl.endpoint, resource_names: ['e'] });
      await other.next()
      s.send({ node, type_url: TypeUrl.listener, resource_names: ['a:80', 'b:80'] });
      s.ack(await s.next(), ["a:80", "b:80"])
      expect(await s.quiet()).toBe(true);
      collection.apply({ upsert: [listener('b:80', 'b')] });
      const pushed = await s.next()
      expect(names(pushed)).toEqual(['a:80', 'b:80']);
      other.send({ type_url: TypeUrl.listener, resource_names: ['a:80', 'b:80'] });
      expect(names(await other.next())).toEqual(['a:80', 'b:80']); // b:80 too: it was added after the list was first resolved
      s.ack(pushed, ['a:80', 'b:80']);
      expect(await s.quiet()).toBe(true);
      // A new list is a new subscription: a name dropped needs no answer, one added (back) does.
      s.send({ type_url: TypeUrl.listener, version_info: pushed.version_info, response_nonce: pushed.nonce, resource_names: ['a:80'] });
      expect(await s.quiet()).toBe(true);
      expect([...[...server.connected()].find((p) => p.proxy?.id === node.id)!.types.get(TypeUrl.listener)!.subscribed]).toEqual(['a:80']);
      s.send({ type_url: TypeUrl.listener, version_info: pushed.version_info, response_nonce: pushed.nonce, resource_names: ['a:80', 'b:80'] });
      expect(names(await s.next())).toEqual(['a:80', 'b:80']);
    } finally {
      other.close();
    }
  });
});

describe('delta', () => {
  let d: DeltaTestStream;
  beforeEach(() => {
    d = client.delta();
  });
  afterEach(() => d.close());

  it('sends subscribed resources with versions, then removals, and nothing after an unsubscribe', async () => {
    collection.apply({ upsert: [routes('r1', 'c1'), routes('r2', 'c2')] });
    d.send({ node, type_url: TypeUrl.route, resource_names_subscribe: ['r1'] });
    const first = await d.next();
    expect(first.resources.map((r) => r.name)).toEqual(['r1']);
    expect(first.resources[0]!.version).toMatch(/\S+/);
    d.ack(first);
    d.send({ type_url: TypeUrl.route, resource_names_subscribe: ['r2'] });
    const second = await d.next();
    expect(second.resources.map((r) => r.name)).toEqual(['r2']); // only the new one
    d.ack(second);
    collection.apply({ remove: [{ typeUrl: TypeUrl.route, name: 'r1' }] });
    const third = await d.next();
    expect(third).toMatchObject({ resources: [], removed_resources: ['r1'] });
    d.ack(third);
    d.send({ type_url: TypeUrl.route, resource_names_unsubscribe: ['r2'] });
    await serverSees((p) => !p.types.get(TypeUrl.route)!.subscribed.has('r2'));
    collection.apply({ upsert: [routes('r2', 'c9')] });
    expect(await d.quiet()).toBe(true);
  });

  it('sends a large subscription (an Envoy sidecar\'s EDS) every resource it names, whatever their order, then only changes', async () => {
    const names = Array.from({ length: 80 }, (_, i) => `e${String(i).padStart(2, '0')}`);
    collection.apply({ upsert: names.map((n, i) => endpoints(n, 9000 + i)) });
    d.send({ node, type_url: TypeUrl.endpoint, resource_names_subscribe: [...names].reverse().slice(0, 70) });
    const first = await d.next();
    expect(first.resources.map((r) => r.name).sort()).toEqual(names.slice(10).sort());
    expect(first.resources.map((r) => r.version)).toEqual(first.resources.map((r) => collection.get(TypeUrl.endpoint, r.name)!.version));
    d.ack(first);
    collection.apply({ upsert: [endpoints('e42', 1234), endpoints('e03', 1234)] }); // e03 is not subscribed
    const second = await d.next();
    expect(second.resources.map((r) => r.name)).toEqual(['e42']);
  });

  it('skips resources the proxy already has (initial_resource_versions) and removes the ones that are gone', async () => {
    const r1 = routes('r1', 'c1');
    collection.apply({ upsert: [r1, routes('r2', 'c2')] });
    d.send({ node, type_url: TypeUrl.route, resource_names_subscribe: ['r1', 'r2', 'r3'], initial_resource_versions: { r1: r1.version, r3: 'v-old' } });
    const res = await d.next();
    expect(res.resources.map((r) => r.name)).toEqual(['r2']);
    expect(res.removed_resources).toEqual(['r3']);
  });

  it('serves wildcard and explicit names on one type, and a later "*" unsubscribe keeps the explicit ones', async () => {
    collection.apply({ upsert: [cluster('a'), cluster('b')] });
    d.send({ node, type_url: TypeUrl.cluster, resource_names_subscribe: ['*', 'c'] });
    const first = await d.next();
    expect(first.resources.map((r) => r.name).sort()).toEqual(['a', 'b']);
    d.ack(first);
    d.send({ type_url: TypeUrl.cluster, resource_names_unsubscribe: ['*'] });
    await serverSees((p) => !p.types.get(TypeUrl.cluster)!.wildcard);
    collection.apply({ upsert: [cluster('c'), cluster('d')] });
    const second = await d.next();
    expect(second.resources.map((r) => r.name)).toEqual(['c']); // d is not wanted any more, c was named
  });

  it('applies subscription changes that arrive with a stale nonce', async () => {
    collection.apply({ upsert: [endpoints('e1', 1), endpoints('e2', 2)] });
    d.send({ node, type_url: TypeUrl.endpoint, resource_names_subscribe: ['e1'] });
    const first = await d.next();
    collection.apply({ upsert: [endpoints('e1', 11)] });
    const second = await d.next();
    d.send({ type_url: TypeUrl.endpoint, response_nonce: first.nonce, resource_names_subscribe: ['e2'] });
    const third = await d.next();
    expect(third.resources.map((r) => r.name)).toEqual(['e2']);
    d.ack(second);
    d.ack(third);
    expect(await d.quiet()).toBe(true);
    const acked = connected().types.get(TypeUrl.endpoint)!.acked;
    expect([...acked].map(([name, r]) => [name, r.version])).toEqual([['e1', second.resources[0]!.version], ['e2', third.resources[0]!.version]]);
  });

  it('serves VHDS: a route configuration\'s name subscribes to its virtual hosts, an empty one is answered too', async () => {
    const vhost = (name: string, cluster: string): XdsResource =>
      encodeResource(TypeUrl.virtualHost, name, { name, domains: [name.split('/')[1]!], routes: [{ match: { prefix: '/' }, route: { cluster } }] });
    collection.apply({ upsert: [vhost('80/a', 'ca'), vhost('80/b', 'cb'), vhost('8080/c', 'cc')] });
    d.send({ node, type_url: TypeUrl.virtualHost, resource_names_subscribe: ['80'] });
    const first = await d.next();
    expect(first.resources.map((r) => r.name).sort()).toEqual(['80/a', '80/b']); // not 8080's
    d.ack(first);
    d.send({ type_url: TypeUrl.virtualHost, resource_names_subscribe: ['9090'] });
    const empty = await d.next(); // Envoy waits for this answer before it uses the route configuration
    expect(empty).toMatchObject({ resources: [], removed_resources: [] });
    d.ack(empty);
    collection.apply({ upsert: [vhost('80/a', 'ca2'), vhost('8080/c', 'cc2')] });
    const change = await d.next();
    expect(change.resources.map((r) => r.name)).toEqual(['80/a']); // the one that changed, in a subscribed namespace
    d.ack(change);
    collection.apply({ remove: [{ typeUrl: TypeUrl.virtualHost, name: '80/b' }] });
    expect(await d.next()).toMatchObject({ resources: [], removed_resources: ['80/b'] });
    d.send({ type_url: TypeUrl.virtualHost, resource_names_unsubscribe: ['80'] });
    await serverSees((p) => !p.types.get(TypeUrl.virtualHost)!.subscribed.has('80'));
    collection.apply({ upsert: [vhost('80/a', 'ca3')] });
    expect(await d.quiet()).toBe(true);
  });

  it('pushes changes made to several collections in one task as one push, clusters before what routes to them', async () => {
    const routing = cache.collection('routing');
    server.stop();
    server = new AdsServer({ openView: () => cache.acquireView(['routing', 'mesh']) });
    const port = await server.listen('127.0.0.1', 0);
    const other = new AdsTestClient(`127.0.0.1:${port}`);
    const s = other.delta();
    routing.apply({ upsert: [routes('r1', 'c1')] });
    collection.apply({ upsert: [cluster('c1')] });
    s.send({ node, type_url: TypeUrl.route, resource_names_subscribe: ['r1'] });
    s.ack(await s.next());
    s.send({ type_url: TypeUrl.cluster, resource_names_subscribe: ['*'] });
    s.ack(await s.next());
    // The route moves to a new cluster: the update touches the routes' collection first, the clusters' second.
    routing.apply({ upsert: [routes('r1', 'c2')] });
    collection.apply({ upsert: [cluster('c2')] });
    const firstPushed = await s.next();
    const thenPushed = await s.next();
    expect([firstPushed.type_url, thenPushed.type_url]).toEqual([TypeUrl.cluster, TypeUrl.route]);
    s.close();
    other.close();
  });

  it('records a NACK and keeps going', async () => {
    collection.apply({ upsert: [cluster('c1')] });
    d.send({ node, type_url: TypeUrl.cluster, resource_names_subscribe: ['c1'] });
    const res = await d.next();
    d.send({ type_url: TypeUrl.cluster, response_nonce: res.nonce, error_detail: { code: 3, message: 'bad cluster c1' } });
    expect(await d.quiet()).toBe(true);
    expect(connected().types.get(TypeUrl.cluster)!.rejected.get('c1')?.error).toBe('bad cluster c1');
  });
});

describe('a control plane still starting', () => {
  it('ends streams UNAVAILABLE until its config is built (an empty first response would wipe what a proxy holds), then serves', async () => {
    let built = false;
    const starting = new AdsServer({ openView: () => cache.acquireView(['mesh']), isReady: () => built });
    const port = await starting.listen('127.0.0.1', 0);
    const early = new AdsTestClient(`127.0.0.1:${port}`);
    try {
      collection.apply({ upsert: [cluster('c1')] });
      const before = early.sotw();
      before.send({ node, type_url: TypeUrl.cluster });
      await expect(before.next()).rejects.toMatchObject({ code: 14, details: expect.stringContaining('not built yet') });
      expect([...starting.connected()]).toEqual([]);
      built = true;
      const after = early.sotw();
      after.send({ node, type_url: TypeUrl.cluster });
      expect(names(await after.next())).toEqual(['c1']);
      after.close();
    } finally {
      early.close();
      starting.stop();
    }
  });
});
