import { describe, expect, it } from '@jest/globals';
import type { Manager } from '../../controllers/index.js';
import type { ResourceSync } from '../sync-status.js';
import type { Informer, InformerHandler } from '../../controllers/index.js';
import { DEFAULT_SUMMARY_TIMING, REPLICA_ANNOTATION, ReplicaSummaries, SUMMARY_KEY, SummaryPublisher, summaryName, type SummaryConfigMap } from './summary-store.js';
import { ResourceCache } from '../cache.js';
import { TypeUrl } from '../protos.js';
import { encodeResource } from '../resource.js';
import { proxyFromNode } from '../server/proxy.js';
import type { ConnectedProxy } from '../server/stream.js';
import { TypeState } from '../server/type-state.js';
import { decodeSummary, encodeSummary, MAX_ENCODED_BYTES, mergeCounts, objectCounts, proxiesJson, proxySummaryJson, type ProxySummary, type ReplicaSummary, type SummaryJson } from './summary.js';

const sync = (servedGeneration: number, expected: number, acked: number, rejections: ResourceSync['rejections'] = []): ResourceSync => ({ servedGeneration, expected, acked, rejections });

/** A replica's summary as 1000 proxyless-or-sidecar proxies and 1000 objects make it (versions, times, node ids as served). */
function realisticSummary(replica: string, proxies: number, objects: number): ReplicaSummary {
  const at = new Date(Date.UTC(2026, 11, 1)).getTime();
  const list: ProxySummary[] = [];
  for (let i = 0; i < proxies; i++) {
    const ns = `team-${i % 40}`;
    const pod = `app-${i % 250}-7d9f8c6b5-${(i * 7919).toString(36).slice(-5)}`;
    const types: ProxySummary['types'] = {};
    for (const [t, v] of [['cds', '41.7'], ['eds', `97.${i % 13}`], ['lds', '33.2'], ['rds', `58.${i % 5}`], ['sds', '4.1']] as const) {
      types[t] = { state: 'SYNCED', served: v, sent: v, acked: v, sentAt: new Date(at + i * 37).toISOString(), ackedAt: new Date(at + i * 37 + 12).toISOString() };
    }
    list.push({ id: `sidecar~10.244.${i >> 8}.${i & 255}~${pod}.${ns}~${ns}.svc.cluster.local`, kind: 'sidecar', namespace: ns, pod, protocol: 'sotw', connectedAt: new Date(at).toISOString(), types });
  }
  const counts = new Map<string, ResourceSync>();
  for (let i = 0; i < objects; i++) counts.set(`VirtualService/team-${i % 40}/route-${i}`, sync(1 + (i % 3), proxies / 2, proxies / 2));
  return { replica, heartbeat: new Date(at).toISOString(), proxies: list, objects: objectCounts(counts) };
}

/** The summary as a replica hands it to encodeSummary. */
const asJson = (summary: ReplicaSummary): SummaryJson => ({ proxies: summary.proxies.map((p) => JSON.stringify(p)), objects: JSON.stringify(summary.objects) });

describe('replica sync summaries', () => {
  it('sums expected over replicas, and ACKs only from replicas serving the newest generation', () => {
    const a = new Map([['VirtualService/ns/r', sync(3, 10, 9)]]);
    const b = new Map([['VirtualService/ns/r', sync(2, 5, 5, [{ proxy: 'p', error: 'bad' }])]]);
    expect(mergeCounts([a, b]).get('VirtualService/ns/r')).toEqual(sync(3, 15, 9, [{ proxy: 'p', error: 'bad' }]));
    expect(mergeCounts([a, new Map([['VirtualService/ns/r', sync(3, 5, 4)]])]).get('VirtualService/ns/r')).toEqual(sync(3, 15, 13));
  });

  it('stays within the ConfigMap bound by leaving proxies out (the object counts always stay), and says how many', async () => {
    const summary = realisticSummary('r', 3000, 1000);
    const bytes = await encodeSummary(summary.replica, summary.heartbeat, asJson(summary), 64 * 1024);
    expect(bytes.length).toBeLessThanOrEqual(64 * 1024);
    const back = decodeSummary(bytes);
    expect(back.replica).toBe('r');
    expect(back.proxies[0]).toEqual(summary.proxies[0]);
    expect(back.objects).toEqual(summary.objects);
    expect(Object.keys(back.objects)).toHaveLength(1000);
    expect(back.proxies.length + back.proxiesOmitted!).toBe(3000);
    expect(back.proxies.length).toBeGreaterThan(0);
  });

  it('measures: 2000 proxies on two replicas and 1000 objects fit whole, each replica writes at most once per minIntervalMs', async () => {
    const summary = realisticSummary('replica-a', 1000, 1000);
    const encoded = await encodeSummary(summary.replica, summary.heartbeat, asJson(summary));
    expect(decodeSummary(encoded)).toEqual(summary); // whole: nothing omitted
    expect(encoded.length).toBeLessThan(MAX_ENCODED_BYTES / 4);

    // Something changes every 100 ms for 60 simulated seconds (a push storm): the writes follow the interval.
    let writes = 0;
    const manager = { client: { json: async () => (writes++, {}), request: async () => ({}) }, log: { warn() {} }, isLeader: () => false } as unknown as Manager;
    let change = 0;
    const publisher = new SummaryPublisher(manager, 'weft-system', 'replica-a', () => ({ proxies: [], objects: JSON.stringify({ [`VirtualService/ns/r`]: [change, 1, 1] }) }));
    for (let ms = 0; ms < 60_000; ms += 100) {
      change++;
      if (ms % DEFAULT_SUMMARY_TIMING.minIntervalMs === 0) await publisher.tick(ms);
    }
    expect(writes).toBe(60_000 / DEFAULT_SUMMARY_TIMING.minIntervalMs);
    // Quiet: only the heartbeat.
    writes = 0;
    for (let ms = 60_000; ms < 120_000; ms += DEFAULT_SUMMARY_TIMING.minIntervalMs) await publisher.tick(ms);
    expect(writes).toBe(60_000 / DEFAULT_SUMMARY_TIMING.heartbeatMs);
    process.stdout.write(`summary of 1000 proxies + 1000 objects: ${encoded.length} bytes gzipped (${JSON.stringify(summary).length} JSON)\n`);
  });

  it('builds nothing while proxies are moving: a heartbeat repeats the last summary until it is staleAfterMs old', async () => {
    let writes = 0;
    let builds = 0;
    let moving = true;
    const written: string[] = [];
    const manager = {
      client: { json: async (_method: string, _path: string, { body }: { body: SummaryConfigMap }) => (writes++, written.push(body.binaryData![SUMMARY_KEY]!), {}), request: async () => ({}) },
      log: { warn() {} },
      isLeader: () => false,
    } as unknown as Manager;
    const build = () => (builds++, { proxies: [], objects: JSON.stringify({ [`VirtualService/ns/r`]: [builds, 1, 1] }) });
    const { heartbeatMs, minIntervalMs, staleAfterMs } = DEFAULT_SUMMARY_TIMING;
    const publisher = new SummaryPublisher(manager, 'weft-system', 'replica-a', build, DEFAULT_SUMMARY_TIMING, undefined, () => moving);
    await publisher.tick(heartbeatMs); // the first summary once the heartbeat is due, moving or not
    expect([builds, writes]).toEqual([1, 1]);
    for (let ms = heartbeatMs + minIntervalMs; ms < 2 * heartbeatMs; ms += minIntervalMs) await publisher.tick(ms);
    expect([builds, writes]).toEqual([1, 1]);
    await publisher.tick(2 * heartbeatMs); // the heartbeat while proxies still move: the same summary, not rebuilt
    expect([builds, writes]).toEqual([1, 2]);
    expect(written[1]).toBe(written[0]);
    await publisher.tick(heartbeatMs + staleAfterMs); // the summary written is staleAfterMs old: built, moving or not
    expect([builds, writes]).toEqual([2, 3]);
    expect(written[2]).not.toBe(written[0]);
    moving = false;
    await publisher.tick(heartbeatMs + staleAfterMs + minIntervalMs);
    expect([builds, writes]).toEqual([3, 4]);
  });

  it("keeps a proxy's summary text while it stands still, and tells its ACK of a push", () => {
    const cache = new ResourceCache();
    const mesh = cache.collection('mesh');
    const cluster = (lb: string) => encodeResource(TypeUrl.cluster, 'c0', { name: 'c0', type: 'EDS', lb_policy: lb }, [{ kind: 'DestinationRule', namespace: 'ns', name: 'dr', generation: 1 }]);
    mesh.apply({ upsert: [cluster('ROUND_ROBIN')] });
    const state = new TypeState(TypeUrl.cluster);
    state.subscribed.add('c0');
    const proxy: ConnectedProxy = {
      streamId: 1, protocol: 'sotw', view: cache.acquireView(['mesh']).view, connectedAt: new Date(), types: new Map([[TypeUrl.cluster, state]]),
      proxy: proxyFromNode({ id: 'p1', cluster: '', metadata: { GENERATOR: 'grpc' }, user_agent_name: '' }),
    };
    const push = (nonce: string) => {
      state.sent(nonce, { version: nonce, resources: [mesh.get(TypeUrl.cluster, 'c0')!], removed: [] });
      state.answered(nonce, undefined);
    };
    push('1');
    const synced = proxySummaryJson(proxy)!;
    expect(JSON.parse(synced)).toMatchObject({ id: 'p1', types: { cds: { state: 'SYNCED', acked: '1' } } });
    expect(proxySummaryJson(proxy)).toBe(synced);

    mesh.apply({ upsert: [cluster('LEAST_REQUEST')] }); // served now, not yet sent
    expect(JSON.parse(proxySummaryJson(proxy)!)).toMatchObject({ types: { cds: { state: 'STALE', acked: '1' } } });
    push('2');
    expect(JSON.parse(proxySummaryJson(proxy)!)).toMatchObject({ types: { cds: { state: 'SYNCED', acked: '2' } } });
  });

  it("makes every proxy's text in order, giving the event loop back between slices", async () => {
    const cache = new ResourceCache();
    const view = cache.acquireView(['mesh']).view;
    const proxies: ConnectedProxy[] = Array.from({ length: 100 }, (_, i) => ({
      streamId: i, protocol: 'sotw', view, connectedAt: new Date(), types: new Map([[TypeUrl.cluster, new TypeState(TypeUrl.cluster)]]),
      proxy: proxyFromNode({ id: `p${i}`, cluster: '', metadata: { GENERATOR: 'grpc' }, user_agent_name: '' }),
    }));
    let turns = 0;
    const count = () => setImmediate(() => (turns++, turns < 1000 && count()));
    count();
    const texts = await proxiesJson(proxies, 0); // a slice of no time: back to the loop every 16 proxies
    expect(texts.map((t) => (JSON.parse(t) as { id: string }).id)).toEqual(proxies.map((p) => p.proxy!.id));
    expect(turns).toBeGreaterThanOrEqual(5);
  });

  it("tells of other replicas' summaries changing, not of this replica's own writes", () => {
    let handler: InformerHandler<SummaryConfigMap> = {};
    // Below the seam: an informer that hands its events to the handler.
    const informer = { on: (h: InformerHandler<SummaryConfigMap>) => ((handler = h), () => undefined), list: () => [] } as unknown as Informer<SummaryConfigMap>;
    const summaries = new ReplicaSummaries(informer, 'replica-a', DEFAULT_SUMMARY_TIMING);
    let changes = 0;
    const stop = summaries.watch(() => changes++);
    const of = (replica: string): SummaryConfigMap => ({ metadata: { name: summaryName(replica), annotations: { [REPLICA_ANNOTATION]: replica } } });
    handler.onAdd?.(of('replica-a'));
    handler.onUpdate?.(of('replica-a'), of('replica-a'));
    expect(changes).toBe(0);
    handler.onAdd?.(of('replica-b'));
    handler.onUpdate?.(of('replica-b'), of('replica-b'));
    handler.onDelete?.(of('replica-b'));
    expect(changes).toBe(3);
    stop();
  });

  it('names ConfigMaps after the replica identity, as DNS names', () => {
    expect(summaryName('Host_1b2c-UUID')).toBe('weft-sync-host-1b2c-uuid');
    expect(summaryName('weft-operator-7d9f8c6b5-x2x9z')).toBe('weft-sync-weft-operator-7d9f8c6b5-x2x9z');
  });
});
