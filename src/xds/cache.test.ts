// SotW and delta responses from a view: what a proxy decodes is the current version of exactly the resources asked
// for, with this stream's nonce, whether the body was built for this stream or reused from another one's.
import { describe, expect, it } from '@jest/globals';
import { ResourceCache, type FanOutSummary } from './cache.js';
import { messageType, TypeUrl } from './protos.js';
import { encodeResource, type XdsResource } from './resource.js';

const responseType = messageType('envoy.service.discovery.v3.DiscoveryResponse');
const cluster = (name: string, timeout = 10) => encodeResource(TypeUrl.cluster, name, { name, type: 'EDS', connect_timeout: { seconds: timeout } });

interface Decoded {
  version_info: string;
  nonce: string;
  type_url: string;
  resources: Array<{ value: Uint8Array }>;
  control_plane?: { identifier: string };
}

function decode(bytes: Buffer): { decoded: Decoded; names: string[]; timeouts: number[] } {
  const decoded = responseType.toObject(responseType.decode(bytes), { defaults: true }) as unknown as Decoded;
  const clusters = decoded.resources.map(
    (r) => messageType(TypeUrl.cluster).toObject(messageType(TypeUrl.cluster).decode(r.value), { longs: Number }) as { name: string; connect_timeout: { seconds: number } },
  );
  return { decoded, names: clusters.map((c) => c.name), timeouts: clusters.map((c) => c.connect_timeout.seconds) };
}

/** A view two streams share (a view of one stream keeps no bodies). */
function setUp(resources: XdsResource[]) {
  const cache = new ResourceCache({ controlPlaneId: 'weft-test' });
  cache.collection('mesh').apply({ upsert: resources });
  cache.acquireView(['mesh']);
  return { cache, view: cache.acquireView(['mesh']).view };
}

describe('SharedView.sotwResponse', () => {
  it('carries the version, the resources in order, the type, the control plane and the nonce', () => {
    const all = [cluster('a'), cluster('b'), cluster('c')];
    const { view } = setUp(all);
    const { decoded, names } = decode(view.sotwResponse(TypeUrl.cluster, [all[2]!, all[0]!], 'n1', true));
    expect(decoded).toMatchObject({ version_info: view.version(TypeUrl.cluster), nonce: 'n1', type_url: TypeUrl.cluster, control_plane: { identifier: 'weft-test' } });
    expect(names).toEqual(['c', 'a']);
  });

  it('reuses a body for the same resources with each stream its own nonce, and never for other ones', () => {
    const all = Array.from({ length: 40 }, (_, i) => cluster(`c${i}`));
    const { view } = setUp(all);
    // Many distinct sets (prefixes, the same members in another order, shifted windows), each asked for twice.
    const sets = [...Array.from({ length: 40 }, (_, i) => all.slice(0, i + 1)), ...Array.from({ length: 35 }, (_, i) => all.slice(i, i + 5)), [all[1]!, all[0]!]];
    for (const round of [1, 2]) {
      sets.forEach((set, i) => {
        const { decoded, names } = decode(view.sotwResponse(TypeUrl.cluster, set, `r${round}-${i}`, true));
        expect(decoded.nonce).toBe(`r${round}-${i}`);
        expect(names).toEqual(set.map((r) => r.name));
      });
    }
  });

  it('gives streams sending the same resources under the same nonce one message, unchanged by later ones', () => {
    const all = [cluster('a'), cluster('b')];
    const { view } = setUp(all);
    const first = view.sotwResponse(TypeUrl.cluster, all, '1', true);
    const copy = Buffer.from(first);
    expect(view.sotwResponse(TypeUrl.cluster, all, '1', true)).toBe(first);
    const other = view.sotwResponse(TypeUrl.cluster, all, '2', true);
    expect(decode(other).decoded.nonce).toBe('2');
    expect(first.equals(copy)).toBe(true);
    expect(decode(view.sotwResponse(TypeUrl.cluster, all, '2', true)).names).toEqual(['a', 'b']);
  });

  it('serves the new version once a resource changes, not the body built before', () => {
    const { cache, view } = setUp([cluster('a'), cluster('b')]);
    const before = view.version(TypeUrl.cluster);
    expect(decode(view.sotwResponse(TypeUrl.cluster, [view.get(TypeUrl.cluster, 'a')!], 'n1', true)).timeouts).toEqual([10]);
    cache.collection('mesh').apply({ upsert: [cluster('a', 30)] });
    const { decoded, timeouts } = decode(view.sotwResponse(TypeUrl.cluster, [view.get(TypeUrl.cluster, 'a')!], 'n2', true));
    expect(decoded.version_info).not.toBe(before);
    expect(decoded.version_info).toBe(view.version(TypeUrl.cluster));
    expect(timeouts).toEqual([30]);
  });

  it('answers an empty full-state response with the version and no resources', () => {
    const { view } = setUp([cluster('a')]);
    const { decoded, names } = decode(view.sotwResponse(TypeUrl.listener, [], 'n1', true));
    expect(decoded).toMatchObject({ type_url: TypeUrl.listener, nonce: 'n1' });
    expect(names).toEqual([]);
  });
});

const deltaType = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');

interface DecodedDelta {
  system_version_info: string;
  nonce: string;
  type_url: string;
  resources: Array<{ name: string; version: string; resource: { value: Uint8Array } }>;
  removed_resources: string[];
  control_plane?: { identifier: string };
}

function decodeDelta(bytes: Buffer): DecodedDelta {
  return deltaType.toObject(deltaType.decode(bytes), { defaults: true }) as unknown as DecodedDelta;
}

describe('SharedView.deltaResponse', () => {
  it("keeps no body for a view only one stream reads (an Envoy sidecar's own)", () => {
    const cache = new ResourceCache();
    cache.collection('mesh').apply({ upsert: [cluster('a')] });
    const { view } = cache.acquireView(['mesh']);
    const all = view.all(TypeUrl.cluster);
    expect(view.deltaResponse(TypeUrl.cluster, all, [], '1')).not.toBe(view.deltaResponse(TypeUrl.cluster, all, [], '1'));
  });

  it('wraps each resource with its name and version, lists removed names, and carries the control plane and nonce', () => {
    const all = [cluster('a'), cluster('b')];
    const { view } = setUp(all);
    const decoded = decodeDelta(view.deltaResponse(TypeUrl.cluster, [all[1]!], ['gone-1', 'gone-2'], 'n1'));
    expect(decoded).toMatchObject({ system_version_info: view.version(TypeUrl.cluster), nonce: 'n1', type_url: TypeUrl.cluster, control_plane: { identifier: 'weft-test' } });
    expect(decoded.resources.map((r) => [r.name, r.version])).toEqual([['b', all[1]!.version]]);
    expect(messageType(TypeUrl.cluster).toObject(messageType(TypeUrl.cluster).decode(decoded.resources[0]!.resource.value))).toMatchObject({ name: 'b' });
    expect(decoded.removed_resources).toEqual(['gone-1', 'gone-2']);
  });

  it('reuses a body across streams, each with its nonce, apart from the SotW ones and from responses with removals', () => {
    const all = [cluster('a'), cluster('b')];
    const { view } = setUp(all);
    const first = view.deltaResponse(TypeUrl.cluster, all, [], '1');
    expect(view.deltaResponse(TypeUrl.cluster, all, [], '1')).toBe(first);
    expect(decodeDelta(view.deltaResponse(TypeUrl.cluster, all, [], '2'))).toMatchObject({ nonce: '2', removed_resources: [] });
    expect(decodeDelta(view.deltaResponse(TypeUrl.cluster, all, ['c'], '2'))).toMatchObject({ nonce: '2', removed_resources: ['c'] });
    // The same resources under the same nonce in SotW: a DiscoveryResponse, not the delta body.
    expect(decode(view.sotwResponse(TypeUrl.cluster, all, '1', true)).names).toEqual(['a', 'b']);
    expect(decodeDelta(view.deltaResponse(TypeUrl.cluster, all, [], '1')).resources.map((r) => r.name)).toEqual(['a', 'b']);
  });
});

describe('responses from collections encoded whole', () => {
  // A sidecar's view: the mesh's clusters (enough to be encoded whole, once for every view) and its own.
  function sidecar() {
    const cache = new ResourceCache();
    const shared = Array.from({ length: 70 }, (_, i) => cluster(`s${String(i).padStart(2, '0')}`));
    cache.collection('mesh').apply({ upsert: shared });
    cache.collection('own').apply({ upsert: [cluster('inbound|80'), cluster('inbound|81')] });
    return { cache, shared, view: cache.acquireView(['mesh', 'own']).view, other: cache.acquireView(['mesh', 'own-2']).view };
  }

  it('lists every resource of the view in order, in SotW and delta, for views sharing the encoded collection', () => {
    const { view, other, shared } = sidecar();
    const all = view.all(TypeUrl.cluster);
    expect(all.map((r) => r.name)).toEqual([...shared.map((r) => r.name), 'inbound|80', 'inbound|81']);
    expect(decode(view.sotwResponse(TypeUrl.cluster, all, 'n1', false)).names).toEqual(all.map((r) => r.name));
    expect(decodeDelta(view.deltaResponse(TypeUrl.cluster, all, [], 'n1')).resources.map((r) => [r.name, r.version])).toEqual(all.map((r) => [r.name, r.version]));
    expect(decode(other.sotwResponse(TypeUrl.cluster, other.all(TypeUrl.cluster), 'n1', false)).names).toEqual(shared.map((r) => r.name));
    // The same resources in another order, or some of them: one by one, as asked.
    const reversed = [...all].reverse();
    expect(decode(view.sotwResponse(TypeUrl.cluster, reversed, 'n2', false)).names).toEqual(reversed.map((r) => r.name));
    expect(decode(view.sotwResponse(TypeUrl.cluster, all.slice(1), 'n3', false)).names).toEqual(all.slice(1).map((r) => r.name));
  });

  it('carries the new bytes once a resource of the collection changes, and a name the own side shadows once', () => {
    const { cache, view } = sidecar();
    expect(decode(view.sotwResponse(TypeUrl.cluster, view.all(TypeUrl.cluster), 'n1', false)).timeouts[5]).toBe(10);
    cache.collection('mesh').apply({ upsert: [cluster('s05', 30)] });
    const after = view.all(TypeUrl.cluster);
    expect(decode(view.sotwResponse(TypeUrl.cluster, after, 'n2', false)).timeouts[5]).toBe(30);
    expect(decodeDelta(view.deltaResponse(TypeUrl.cluster, after, [], 'n2')).resources[5]!.version).toBe(after[5]!.version);
    // The own side defines s07 first in a view that lists it before the mesh: the view's s07 is its own, once.
    const mine = cache.acquireView(['own', 'mesh']).view;
    cache.collection('own').apply({ upsert: [cluster('s07', 5)] });
    const names = decode(mine.sotwResponse(TypeUrl.cluster, mine.all(TypeUrl.cluster), 'n3', false));
    expect(names.names.filter((n) => n === 's07')).toHaveLength(1);
    expect(names.timeouts[names.names.indexOf('s07')]).toBe(5);
  });
});

describe('ResourceCache fan-out', () => {
  /**
   * Pushes one change to `streams` streams that each take `costMs` to tell, in slices of `sliceMs`; resolves with how
   * many were told after other work (an ACK, a new stream) had its turn.
   */
  async function toldAfterOtherWork(streams: number, costMs: number, sliceMs: number): Promise<{ toldAfter: number; summaries: FanOutSummary[] }> {
    const summaries: FanOutSummary[] = [];
    // The fan-out's clock moves by each stream's cost, not with the machine: a busy test run must not change the turns.
    let clock = 0;
    const cache = new ResourceCache({ fanOutSliceMs: sliceMs, onFanOut: (s) => summaries.push(s), now: () => clock });
    cache.collection('mesh').apply({ upsert: [cluster('a')] });
    const { view } = cache.acquireView(['mesh']);
    let otherWorkRan = false;
    let toldAfter = 0;
    for (let i = 0; i < streams; i++) {
      view.onChange(() => {
        if (otherWorkRan) toldAfter++;
        clock += costMs;
      });
    }
    cache.collection('mesh').apply({ upsert: [cluster('a', 20)] });
    setImmediate(() => (otherWorkRan = true));
    await new Promise<void>((resolve) => cache.afterFanOut(resolve));
    return { toldAfter, summaries };
  }

  it('tells the last streams in the same turn when they take less than another slice', async () => {
    // 40 streams of 0.5 ms in slices of 10 ms: past the slice at the 32nd, the other 8 take some 4 ms.
    const { toldAfter, summaries } = await toldAfterOtherWork(40, 0.5, 10);
    expect(toldAfter).toBe(0);
    expect(summaries).toEqual([expect.objectContaining({ views: 1, streams: 40, turns: 1 })]);
  });

  it('lets other work in between the turns of a long fan-out, and says how many it took', async () => {
    // 200 streams of 0.5 ms: at most two slices' worth (some 48) in the first turn.
    const { toldAfter, summaries } = await toldAfterOtherWork(200, 0.5, 10);
    expect(toldAfter).toBeGreaterThanOrEqual(150);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ views: 1, streams: 200 });
    expect(summaries[0]!.turns).toBeGreaterThanOrEqual(3);
    expect(summaries[0]!.busyMs).toBeGreaterThanOrEqual(100);
    expect(summaries[0]!.ms).toBeGreaterThanOrEqual(summaries[0]!.busyMs);
  });
});
