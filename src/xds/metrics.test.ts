// The xDS metrics over a real push: the operator's xDS feature (informers on a fake API server, the ADS server on
// 127.0.0.1) and a raw SotW client that subscribes, ACKs or NACKs. A VirtualService edit must show as one push
// latency observation and, once the client ACKs the new routes, one convergence observation for VirtualService.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { FakeApiServer } from '../controllers/fake-api-server.js';
import { Manager } from '../controllers/index.js';
import { MeshState } from '../mesh/state/index.js';
import { edited, reviewsMesh } from '../mesh/model/testing.js';
import { TypeUrl } from './protos.js';
import { encodeResource } from './resource.js';
import { AdsTestClient, type SotwResponse, type SotwTestStream } from './testing/ads-client.js';
import { XdsFeature } from './index.js';

const NS = 'shop';
const m = reviewsMesh(NS);
const TARGET = `${m.host}:9080`;
const collections = {
  serviceAccounts: 'v1/serviceaccounts',
  serviceEntries: 'weft.dev/v1alpha1/serviceentries',
  workloadEntries: 'weft.dev/v1alpha1/workloadentries',
  destinationRules: 'weft.dev/v1alpha1/destinationrules',
  virtualServices: 'weft.dev/v1alpha1/virtualservices',
};

let server: FakeApiServer;
/** Writes `obj` as the API server stores it (watches see it). */
const put = (collection: string, obj: object) => server.put(collection, obj as Parameters<FakeApiServer['put']>[1]);
let manager: Manager;
let running: Promise<void>;
let client: AdsTestClient | undefined;
let stream: SotwTestStream | undefined;

beforeAll(() => {
  // Loading the protos takes a moment; not inside a timed wait.
  encodeResource(TypeUrl.cluster, 'warm-up', { name: 'warm-up' });
});

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  for (const sa of m.serviceAccounts) put(collections.serviceAccounts, sa);
  put(collections.serviceEntries, m.serviceEntry);
  put(collections.workloadEntries, m.v1);
  put(collections.workloadEntries, m.v2);
  put(collections.destinationRules, m.rule);
  put(collections.virtualServices, m.split);
  manager = new Manager({ access: server.access(), log: pino({ level: 'silent' }), http: false, handleSignals: false, defaultMetrics: false });
});

afterEach(async () => {
  stream?.close();
  client?.close();
  client = undefined;
  await manager.stop();
  await running;
  await manager.client.close();
  await server.close();
});

/** Starts the xDS feature as the operator does; resolves with the plaintext port once config is served. */
async function serveXds(): Promise<number> {
  const xds = new XdsFeature(manager, { port: 0, log: pino({ level: 'silent' }), statusIntervalMs: 50 });
  const cp = xds.serve(new MeshState(manager));
  running = manager.start();
  return (await cp.serving())!;
}

/** The next response of `typeUrl` on `stream` (others are ACKed as they come). */
async function nextOf(stream: SotwTestStream, typeUrl: string): Promise<SotwResponse> {
  for (;;) {
    const r = await stream.next(5000);
    if (r.type_url === typeUrl) return r;
    stream.ack(r, r.resources.map((x) => x.name));
  }
}

/** A proxyless client holding the reviews listener and its routes, everything ACKed. */
async function subscribedClient(port: number): Promise<SotwTestStream> {
  client = new AdsTestClient(`127.0.0.1:${port}`);
  stream = client.sotw();
  stream.send({ type_url: TypeUrl.listener, resource_names: [TARGET], node: { id: 'client-1', locality: { zone: 'z1' }, metadata: { GENERATOR: 'grpc' } } });
  const lds = await nextOf(stream, TypeUrl.listener);
  stream.ack(lds, [TARGET]);
  stream.send({ type_url: TypeUrl.route, resource_names: [TARGET] });
  const rds = await nextOf(stream, TypeUrl.route);
  stream.ack(rds, [TARGET]);
  return stream;
}

/** One sample's value from the manager's registry (prom-client's JSON form), or undefined. */
async function sample(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  for (const metric of await manager.metrics.registry.getMetricsAsJSON()) {
    for (const v of metric.values as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>) {
      if ((v.metricName ?? metric.name) !== name) continue;
      if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) return v.value;
    }
  }
  return undefined;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The reviews split edited to 50/50: generation 2. */
const rebalanced = () =>
  edited(m.split, {
    hosts: ['reviews'],
    http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 50 }] }],
  });

describe('xDS metrics on a real push', () => {
  it('observes push latency when the edit reaches the stream, and convergence only once the proxy ACKs it', async () => {
    const stream = await subscribedClient(await serveXds());
    expect(await sample('weft_xds_connected_proxies', { replica: manager.identity, kind: 'proxyless', protocol: 'sotw' })).toBe(1);
    expect(await sample('weft_xds_push_duration_seconds_count', { trigger: 'hosts' })).toBeUndefined(); // the first build is no push

    put(collections.virtualServices, rebalanced());
    const rds = await nextOf(stream, TypeUrl.route);
    const weights = (rds.resources[0]!.message.virtual_hosts as Array<{ routes: Array<{ route: { weighted_clusters: { clusters: Array<{ weight: { value: number } }> } } }> }>)[0]!.routes[0]!.route.weighted_clusters.clusters.map((c) => c.weight.value);
    expect(weights).toEqual([50, 50]);
    expect(await sample('weft_xds_push_duration_seconds_count', { trigger: 'hosts' })).toBe(1);
    const pushSeconds = (await sample('weft_xds_push_duration_seconds_sum', { trigger: 'hosts' }))!;
    expect(pushSeconds).toBeGreaterThan(0);
    expect(pushSeconds).toBeLessThan(5);

    // Not ACKed yet: the generation has not converged, however long we wait.
    await new Promise((r) => setTimeout(r, 200));
    expect(await sample('weft_config_convergence_seconds_count', { kind: 'VirtualService' })).toBeUndefined();

    const waited = performance.now();
    stream.ack(rds, [TARGET]);
    const converged = await until('convergence to be observed', () => sample('weft_config_convergence_seconds_count', { kind: 'VirtualService' }));
    expect(converged).toBe(1);
    // From the informer event to the ACK: at least the 200 ms the ACK was held back, at most until now.
    const seconds = (await sample('weft_config_convergence_seconds_sum', { kind: 'VirtualService' }))!;
    expect(seconds).toBeGreaterThanOrEqual(0.2);
    expect(seconds).toBeLessThan(pushSeconds + (performance.now() - waited) / 1000 + 0.2 + 1);
    expect(await sample('weft_config_convergence_seconds_count', { kind: 'DestinationRule' })).toBeUndefined(); // unchanged
  });

  it('counts a NACK by type, and a rejected generation never converges', async () => {
    const stream = await subscribedClient(await serveXds());
    put(collections.virtualServices, rebalanced());
    const rds = await nextOf(stream, TypeUrl.route);
    stream.send({ type_url: TypeUrl.route, resource_names: [TARGET], response_nonce: rds.nonce, version_info: '', error_detail: { code: 3, message: 'weights rejected' } });
    expect(await until('the NACK to be counted', () => sample('weft_xds_nacks_total', { type: 'RouteConfiguration' }))).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(await sample('weft_config_convergence_seconds_count', { kind: 'VirtualService' })).toBeUndefined();
    expect(await sample('weft_xds_push_duration_seconds_count', { trigger: 'hosts' })).toBe(1);
  });

  it('shows the debounce queue and the streams of this replica when scraped', async () => {
    await subscribedClient(await serveXds());
    expect(await sample('weft_xds_debounce_pending', { replica: manager.identity, trigger: 'hosts' })).toBe(0);
    const text = await manager.metrics.registry.metrics();
    expect(text).toContain(`weft_xds_connected_proxies{replica="${manager.identity}",kind="proxyless",protocol="sotw"} 1`);
    expect(text).toContain('# TYPE weft_xds_push_duration_seconds histogram');
    expect(text).toContain('# TYPE weft_config_convergence_seconds histogram');
  });
});
