// Sync status over time: what a computation reuses from the last one (and what makes it look again), and how
// count-only changes are spread over intervals while Programmed changes go out at once.
import { afterEach, describe, expect, it } from '@jest/globals';
import { ResourceCache, type ResourceCollection } from './cache.js';
import { TypeUrl } from './protos.js';
import { encodeResource, type XdsResource } from './resource.js';
import { proxyFromNode } from './server/proxy.js';
import type { ConnectedProxy } from './server/stream.js';
import { TypeState } from './server/type-state.js';
import { computeSync, SyncMemo, SyncStatus, type SyncInputs } from './sync-status.js';

const cluster = (i: number, generation = 1, lb = 'ROUND_ROBIN'): XdsResource =>
  encodeResource(TypeUrl.cluster, `c${i}`, { name: `c${i}`, type: 'EDS', lb_policy: lb }, [{ kind: 'DestinationRule', namespace: 'ns', name: `dr${i}`, generation }]);

/** One proxyless proxy subscribed to clusters c0..c(n-1) of the 'mesh' collection, with nothing ACKed yet. */
function setup(n: number): { cache: ResourceCache; collection: ResourceCollection; proxy: ConnectedProxy; state: TypeState; inputs: SyncInputs } {
  const cache = new ResourceCache();
  const collection = cache.collection('mesh');
  collection.apply({ upsert: Array.from({ length: n }, (_, i) => cluster(i)) });
  const { view } = cache.acquireView(['mesh']);
  const state = new TypeState(TypeUrl.cluster);
  for (let i = 0; i < n; i++) state.subscribed.add(`c${i}`);
  const proxy: ConnectedProxy = {
    streamId: 1,
    protocol: 'sotw',
    proxy: proxyFromNode({ id: 'p1', cluster: '', metadata: { GENERATOR: 'grpc' }, user_agent_name: '' }),
    view,
    connectedAt: new Date(),
    types: new Map([[TypeUrl.cluster, state]]),
  };
  return { cache, collection, proxy, state, inputs: { cache, proxies: () => [proxy] } };
}

/** The proxy ACKs the current version of everything it subscribes to. */
function ackAll(s: ReturnType<typeof setup>, nonce: string): void {
  const resources = [...s.state.subscribed].map((n) => s.collection.get(TypeUrl.cluster, n)!);
  s.state.sent(nonce, { version: String(s.collection.version(TypeUrl.cluster)), resources, removed: [] });
  s.state.answered(nonce, undefined);
}

/** A hundred proxy moves in one interval: proxies connecting and ACKing by the hundred. */
function storm(sync: SyncStatus): void {
  for (let i = 0; i < 100; i++) sync.proxyMoved();
}

/** The proxy is sent its whole subscription under `nonce`, not answered yet. */
function sendUnanswered(s: ReturnType<typeof setup>, nonce: string): void {
  const resources = [...s.state.subscribed].map((n) => s.collection.get(TypeUrl.cluster, n)!);
  s.state.sent(nonce, { version: String(s.collection.version(TypeUrl.cluster)), resources, removed: [] });
}

describe('computeSync with a memo', () => {
  it('reuses per-type work until the proxy answers or the served config moves, and agrees with a fresh computation', () => {
    const s = setup(3);
    const memo = new SyncMemo();
    expect(computeSync(s.inputs, memo).get('DestinationRule/ns/dr0')).toMatchObject({ servedGeneration: 1, expected: 1, acked: 0 });

    ackAll(s, 'a');
    expect(computeSync(s.inputs, memo).get('DestinationRule/ns/dr0')).toMatchObject({ expected: 1, acked: 1 });

    // A new version of c1 (a changed DestinationRule): not held until ACKed, whatever the memo remembers.
    s.collection.apply({ upsert: [cluster(1, 2, 'LEAST_REQUEST')] });
    const moved = computeSync(s.inputs, memo);
    expect(moved.get('DestinationRule/ns/dr1')).toMatchObject({ servedGeneration: 2, expected: 1, acked: 0 });
    expect(moved.get('DestinationRule/ns/dr0')).toMatchObject({ servedGeneration: 1, expected: 1, acked: 1 });
    expect(moved).toEqual(computeSync(s.inputs));
  });

  it('sees a subscription change made by a request (the revision moves)', () => {
    const s = setup(3);
    const memo = new SyncMemo();
    ackAll(s, 'a');
    expect(computeSync(s.inputs, memo).get('DestinationRule/ns/dr2')).toMatchObject({ expected: 1 });
    s.state.subscribed.delete('c2');
    s.state.forget('c2');
    expect(computeSync(s.inputs, memo).get('DestinationRule/ns/dr2')).toMatchObject({ expected: 0 });
  });
});

describe('computeSync over many proxies (clean ones share their states)', () => {
  /** A proxy of `collection` subscribed to `names` (in that order), every one ACKed at its current version. */
  function ackedProxy(cache: ResourceCache, collection: ResourceCollection, id: string, names: string[], ackedAt: number): ConnectedProxy {
    const { view } = cache.acquireView(['mesh']);
    const state = new TypeState(TypeUrl.cluster);
    for (const n of names) state.subscribed.add(n);
    state.sent('1', { version: '1', resources: names.map((n) => collection.get(TypeUrl.cluster, n)!), removed: [] });
    state.answered('1', undefined);
    state.ackedAtMs = ackedAt;
    const proxy = proxyFromNode({ id, cluster: '', metadata: { GENERATOR: 'grpc' }, user_agent_name: '' });
    return { streamId: 1, protocol: 'delta', proxy, view, connectedAt: new Date(), types: new Map([[TypeUrl.cluster, state]]) };
  }

  it('counts proxies wanting the same resources in any order once each, apart from those wanting others, behind or rejecting', () => {
    const cache = new ResourceCache();
    const collection = cache.collection('mesh');
    collection.apply({ upsert: [cluster(0), cluster(1), cluster(2)] });
    const all = ['c0', 'c1', 'c2'];
    const proxies = [
      ...Array.from({ length: 50 }, (_, i) => ackedProxy(cache, collection, `fwd-${i}`, all, 1000 + i)),
      ...Array.from({ length: 50 }, (_, i) => ackedProxy(cache, collection, `rev-${i}`, [...all].reverse(), 2000 + i)),
      ...Array.from({ length: 10 }, (_, i) => ackedProxy(cache, collection, `two-${i}`, ['c0', 'c1'], 500)),
    ];
    // One proxy rejected the new version of c2 (a changed DestinationRule), one has not answered it yet.
    collection.apply({ upsert: [cluster(2, 2, 'LEAST_REQUEST')] });
    const c2 = collection.get(TypeUrl.cluster, 'c2')!;
    for (const [i, p] of proxies.entries()) {
      const state = p.types.get(TypeUrl.cluster)!;
      if (p.proxy!.id.startsWith('two-')) continue;
      state.sent(`2-${i}`, { version: '2', resources: [c2], removed: [] });
      const before = state.ackedAtMs!;
      if (p.proxy!.id === 'fwd-7') state.answered(`2-${i}`, { code: 3, message: 'Error adding/updating cluster(s) c2: bad lb' });
      else if (p.proxy!.id !== 'rev-3') state.answered(`2-${i}`, undefined);
      state.ackedAtMs = p.proxy!.id === 'rev-49' ? 9000 : before; // answered "now": keep the test's clock
    }

    const sync = computeSync({ cache, proxies: () => proxies });
    expect(sync.get('DestinationRule/ns/dr0')).toMatchObject({ expected: 110, acked: 110, lastAckAt: 9000 });
    expect(sync.get('DestinationRule/ns/dr2')).toMatchObject({ servedGeneration: 2, expected: 100, acked: 98, lastAckAt: 9000 });
    expect(sync.get('DestinationRule/ns/dr2')!.rejections).toEqual([{ proxy: 'fwd-7', error: 'Error adding/updating cluster(s) c2: bad lb' }]);

    // The same answer from a memo that saw the proxies before, and after the two catch up.
    const memo = new SyncMemo();
    expect(computeSync({ cache, proxies: () => proxies }, memo)).toEqual(sync);
    for (const id of ['fwd-7', 'rev-3']) {
      const state = proxies.find((p) => p.proxy!.id === id)!.types.get(TypeUrl.cluster)!;
      state.sent('3', { version: '2', resources: [c2], removed: [] });
      state.answered('3', undefined);
    }
    const caughtUp = computeSync({ cache, proxies: () => proxies }, memo);
    expect(caughtUp.get('DestinationRule/ns/dr2')).toMatchObject({ expected: 100, acked: 100, rejections: [] });
    expect(caughtUp).toEqual(computeSync({ cache, proxies: () => proxies }));
  });

  it('counts proxies of a connect storm still waiting for their first response as holding none, beside the others', () => {
    const cache = new ResourceCache();
    const collection = cache.collection('mesh');
    collection.apply({ upsert: [cluster(0), cluster(1), cluster(2)] });
    const all = ['c0', 'c1', 'c2'];
    const acked = Array.from({ length: 20 }, (_, i) => ackedProxy(cache, collection, `acked-${i}`, all, 1000 + i));
    // Subscribed, sent or not, nothing answered: what a computation forced in the middle of a long storm meets.
    const waiting = Array.from({ length: 30 }, (_, i) => {
      const p = ackedProxy(cache, collection, `waiting-${i}`, i < 10 ? ['c0', 'c1'] : all, 0);
      const state = new TypeState(TypeUrl.cluster);
      for (const n of i < 10 ? ['c0', 'c1'] : all) state.subscribed.add(n);
      if (i % 2 === 0) state.sent('1', { version: '1', resources: [...state.subscribed].map((n) => collection.get(TypeUrl.cluster, n)!), removed: [] });
      return { ...p, types: new Map([[TypeUrl.cluster, state]]) };
    });
    // One of them rejected c2 in its first response and applied the rest: it is told apart, with its error.
    const rejecting = waiting[15]!.types.get(TypeUrl.cluster)!;
    rejecting.sent('1', { version: '1', resources: all.map((n) => collection.get(TypeUrl.cluster, n)!), removed: [] });
    rejecting.answered('1', { code: 3, message: 'Error adding/updating cluster(s) c2: bad lb' });
    const proxies = [...acked, ...waiting];

    const memo = new SyncMemo();
    const sync = computeSync({ cache, proxies: () => proxies }, memo);
    expect(sync.get('DestinationRule/ns/dr0')).toMatchObject({ expected: 50, acked: 21, lastAckAt: 1019 });
    expect(sync.get('DestinationRule/ns/dr2')).toMatchObject({ expected: 40, acked: 20 });
    expect(sync.get('DestinationRule/ns/dr2')!.rejections).toEqual([{ proxy: 'waiting-15', error: 'Error adding/updating cluster(s) c2: bad lb' }]);
    expect(sync.get('DestinationRule/ns/dr0')!.rejections).toEqual([]);
    // The waiting ones answer: they count as holding it, in a memo's computation as in a fresh one.
    for (const p of waiting.slice(0, 5)) {
      const state = p.types.get(TypeUrl.cluster)!;
      state.sent('2', { version: '1', resources: [...state.subscribed].map((n) => collection.get(TypeUrl.cluster, n)!), removed: [] });
      state.answered('2', undefined);
    }
    const later = computeSync({ cache, proxies: () => proxies }, memo);
    expect(later.get('DestinationRule/ns/dr0')).toMatchObject({ expected: 50, acked: 26 });
    expect(later).toEqual(computeSync({ cache, proxies: () => proxies }));
  });
});

describe('computeSync over proxies of several types', () => {
  const endpoints = (i: number): XdsResource =>
    encodeResource(TypeUrl.endpoint, `c${i}`, { cluster_name: `c${i}` }, [{ kind: 'DestinationRule', namespace: 'ns', name: `dr${i}`, generation: 1 }]);

  /**
   * A proxy wanting clusters and endpoints c0..c2 and (unless `ownListener` is false) a listener of its own; `holds`
   * says which types it ACKed.
   */
  function proxy(cache: ResourceCache, id: string, holds: { clusters: boolean; endpoints: boolean }, ownListener = true): ConnectedProxy {
    const mesh = cache.collection('mesh');
    const own = cache.collection(`own-${id}`);
    own.apply({ upsert: [encodeResource(TypeUrl.listener, `l-${id}`, { name: `l-${id}` }, [{ kind: 'Sidecar', namespace: 'ns', name: id, generation: 1 }])] });
    const { view } = cache.acquireView(['mesh', `own-${id}`]);
    const types = new Map<string, TypeState>();
    const wanted = [
      [TypeUrl.cluster, ['c0', 'c1', 'c2'], holds.clusters],
      [TypeUrl.endpoint, ['c0', 'c1', 'c2'], holds.endpoints],
      ...(ownListener ? [[TypeUrl.listener, [`l-${id}`], true] as const] : []),
    ] as const;
    for (const [typeUrl, names, acked] of wanted) {
      const state = new TypeState(typeUrl);
      for (const n of names) state.subscribed.add(n);
      if (acked) {
        state.sent('1', { version: view.version(typeUrl), resources: names.map((n) => (typeUrl === TypeUrl.listener ? own : mesh).get(typeUrl, n)!), removed: [] });
        state.answered('1', undefined);
      }
      types.set(typeUrl, state);
    }
    return { streamId: 1, protocol: 'delta', proxy: proxyFromNode({ id, cluster: '', metadata: {}, user_agent_name: 'envoy' }), view, connectedAt: new Date(), types };
  }

  it('holds an object only where every type behind it is held, each proxy with its own listener', () => {
    const cache = new ResourceCache();
    cache.collection('mesh').apply({ upsert: [0, 1, 2].flatMap((i) => [cluster(i), endpoints(i)]) });
    const proxies = [
      ...Array.from({ length: 8 }, (_, i) => proxy(cache, `both-${i}`, { clusters: true, endpoints: true })),
      ...Array.from({ length: 5 }, (_, i) => proxy(cache, `clusters-${i}`, { clusters: true, endpoints: false })),
      ...Array.from({ length: 3 }, (_, i) => proxy(cache, `none-${i}`, { clusters: false, endpoints: false })),
    ];
    const memo = new SyncMemo();
    const sync = computeSync({ cache, proxies: () => proxies }, memo);
    expect(sync.get('DestinationRule/ns/dr1')).toMatchObject({ expected: 16, acked: 8 });
    expect(sync.get('Sidecar/ns/clusters-3')).toMatchObject({ expected: 1, acked: 1 });
    expect(computeSync({ cache, proxies: () => proxies }, memo)).toEqual(sync);
  });

  it("counts an object as not held by a proxy whose least shared type does not hold it, though the others do", () => {
    // No listeners of their own: the endpoints none of the last proxy holds are the part merged last, over clusters
    // it holds, for the same DestinationRules.
    const cache = new ResourceCache();
    cache.collection('mesh').apply({ upsert: [0, 1, 2].flatMap((i) => [cluster(i), endpoints(i)]) });
    const proxies = [
      ...Array.from({ length: 4 }, (_, i) => proxy(cache, `both-${i}`, { clusters: true, endpoints: true }, false)),
      proxy(cache, 'clusters-only', { clusters: true, endpoints: false }, false),
    ];
    const sync = computeSync({ cache, proxies: () => proxies });
    for (const i of [0, 1, 2]) expect(sync.get(`DestinationRule/ns/dr${i}`)).toMatchObject({ expected: 5, acked: 4 });
  });
});

describe('SyncStatus', () => {
  let sync: SyncStatus | undefined;

  /**
   * A SyncStatus over `s` on a fake clock, each computation taking `computeMs` of it (reading the proxy's types
   * does), computed twice (the proxy connected, then settled). `look(second, move)`: the clock at that second, the
   * proxy's state moved by `move`, and a look.
   */
  function clocked(s: ReturnType<typeof setup>, computeMs = 0) {
    const t = {
      clock: 0,
      computed: 0,
      status: undefined as unknown as SyncStatus,
      look(second: number, move?: () => void): void {
        t.clock = second * 1000;
        if (move) {
          s.state.revision++;
          move();
        }
        t.status.recompute();
      },
    };
    t.status = sync = new SyncStatus(1000, 25, () => t.clock);
    t.status.onComputed(() => t.computed++);
    const proxy = computeMs === 0 ? s.proxy : Object.defineProperty({ ...s.proxy }, 'types', { get: () => ((t.clock += computeMs), s.proxy.types) });
    t.status.attach({ ...s.inputs, proxies: () => [proxy] });
    t.status.recompute();
    t.status.recompute();
    return t;
  }

  afterEach(() => sync?.stop());

  it('re-enqueues at most N count-only changes per interval once counts settle, oldest first, and a Programmed change at once', () => {
    const s = setup(5);
    sync = new SyncStatus(60_000, 2);
    const emitted: string[] = [];
    sync.changes('DestinationRule').on({ onUpdate: (o) => void emitted.push(o.metadata.name) });
    sync.attach(s.inputs);
    sync.recompute(); // the first summaries: the proxy just connected
    sync.recompute(); // nothing moved since: settled, every object told (none listed here)
    expect(emitted).toEqual([]);

    ackAll(s, 'a'); // every object's acked count moves
    sync.markDirty();
    sync.recompute();
    expect(emitted).toEqual([]); // the proxy answered since the last computation: counts may still move
    sync.recompute(); // nothing moved since: settled
    expect(emitted).toEqual(['dr0', 'dr1']);
    sync.recompute(); // the rest is pending
    expect(emitted).toEqual(['dr0', 'dr1', 'dr2', 'dr3']);

    s.collection.apply({ upsert: [cluster(1, 2, 'LEAST_REQUEST')] }); // dr1's new generation is served
    sync.markDirty();
    sync.recompute();
    expect(emitted).toEqual(['dr0', 'dr1', 'dr2', 'dr3', 'dr1']);
    expect(sync.summary('DestinationRule/ns/dr1')).toMatchObject({ servedGeneration: 2, acked: 0 });
    sync.recompute();
    expect(emitted).toEqual(['dr0', 'dr1', 'dr2', 'dr3', 'dr1', 'dr4']);

    sync.recompute(); // nothing pending, nothing changed
    expect(emitted).toHaveLength(6);
  });

  it('keeps the counts status holds when an object is reconciled for another reason, until the budget lets them through', () => {
    const s = setup(1);
    sync = new SyncStatus(60_000, 25);
    const emitted: string[] = [];
    sync.changes('DestinationRule').on({ onUpdate: (o) => void emitted.push(o.metadata.name) });
    sync.attach(s.inputs);
    sync.recompute();
    sync.recompute();
    const programmed = { type: 'Programmed', status: 'True' as const, reason: 'Programmed', message: 'in the configuration served to proxies', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' };
    const dr = { metadata: { namespace: 'ns', name: 'dr0', generation: 1 }, status: { conditions: [programmed], synced: '0/1', proxies: { acked: 0, expected: 1 } } };
    const served = { accepted: true, generation: 1 };
    ackAll(s, 'a');
    sync.markDirty();
    sync.recompute(); // counts moved: 1/1 now, held while they may still move
    expect(sync.details('DestinationRule', dr, served)).toEqual({ conditions: [expect.objectContaining({ status: 'True', reason: 'Programmed' })] });
    sync.recompute(); // settled: let through
    expect(emitted).toEqual(['dr0']);
    expect(sync.details('DestinationRule', dr, served)!.fields).toEqual({ proxies: { acked: 1, expected: 1 }, synced: '1/1' });
    // A new generation is written whole at once, counts included.
    const next = { ...dr, metadata: { ...dr.metadata, generation: 2 } };
    s.collection.apply({ upsert: [cluster(0, 2, 'LEAST_REQUEST')] });
    sync.markDirty();
    sync.recompute();
    expect(sync.details('DestinationRule', next, { accepted: true, generation: 2 })!.fields).toEqual({ proxies: { acked: 0, expected: 1 }, synced: '0/1' });
  });

  it('holds count-only changes while proxies keep moving, at most ten seconds', () => {
    const s = setup(2);
    let clock = 0;
    sync = new SyncStatus(1000, 25, () => clock);
    const emitted: string[] = [];
    sync.changes('DestinationRule').on({ onUpdate: (o) => void emitted.push(o.metadata.name) });
    sync.attach(s.inputs);
    sync.recompute();
    sync.recompute();
    ackAll(s, 'a');
    for (let second = 1; second <= 9; second++) {
      clock = second * 1000;
      s.state.revision++; // the proxy asks again every second: its state moves
      sync.markDirty();
      sync.recompute();
    }
    expect(emitted).toEqual([]); // their counts first moved at 1 s
    clock = 11_000;
    s.state.revision++;
    sync.markDirty();
    sync.recompute();
    expect(emitted).toEqual(['dr0', 'dr1']);
  });

  it('computes nothing while proxies keep connecting and ACKing, and at once when something else changes', () => {
    const s = setup(2);
    let clock = 0;
    sync = new SyncStatus(1000, 25, () => clock);
    const emitted: string[] = [];
    let computed = 0;
    sync.changes('DestinationRule').on({ onUpdate: (o) => void emitted.push(o.metadata.name) });
    sync.onComputed(() => computed++);
    sync.attach(s.inputs);
    sync.recompute(); // the proxy just connected
    sync.recompute(); // settled: every object told
    expect(computed).toBe(2);
    const look = (second: number, move: 'ack' | 'config' | 'none') => {
      clock = second * 1000;
      if (move !== 'none') s.state.revision++; // the proxy asked or answered
      if (move === 'ack') storm(sync!);
      if (move === 'config') sync!.markDirty();
      sync!.recompute();
    };
    ackAll(s, 'a');
    for (let second = 1; second <= 4; second++) look(second, 'ack');
    expect([computed, sync.proxiesMoving]).toEqual([2, true]); // still moving: waits
    look(5, 'config'); // a push, a NACK, a proxy gone: computed at once
    expect(computed).toBe(3);
    expect(emitted).toEqual([]);
    look(6, 'ack');
    expect(computed).toBe(3);
    look(7, 'none'); // stood still for an interval: computed, settled, counts let through
    expect([computed, sync.proxiesMoving]).toEqual([4, false]);
    expect(emitted).toEqual(['dr0', 'dr1']);
    expect(sync.summary('DestinationRule/ns/dr0')).toMatchObject({ acked: 1, expected: 1 });

    // Moving without a pause: computed once ten seconds of waiting have passed.
    for (let second = 8; second <= 17; second++) look(second, 'ack');
    expect(computed).toBe(4);
    look(18, 'ack');
    expect(computed).toBe(5);
  });

  it('computes at once when only a few proxies moved (no storm to wait out)', () => {
    const s = setup(2);
    const t = clocked(s);
    ackAll(s, 'a');
    for (let second = 1; second <= 3; second++) {
      t.clock = second * 1000;
      s.state.revision++;
      for (let i = 0; i < 99; i++) t.status.proxyMoved();
      t.status.recompute();
      expect([t.computed, t.status.proxiesMoving]).toEqual([2 + second, false]);
    }
  });

  it('waits for a few moving proxies too once a computation is costly (hundreds of Envoy sidecars)', () => {
    const s = setup(2);
    const t = clocked(s, 20);
    expect(t.computed).toBe(2);
    ackAll(s, 'a');
    for (let second = 1; second <= 3; second++) t.look(second, () => t.status.proxyMoved());
    expect([t.computed, t.status.proxiesMoving]).toEqual([2, true]);
    t.look(4); // stood still: computed
    expect([t.computed, t.status.proxiesMoving]).toEqual([3, false]);
  });

  it('once a computation is costly, waits while a response is still unanswered, though nothing moved', () => {
    const s = setup(2);
    const t = clocked(s, 20);
    sendUnanswered(s, 'n1');
    t.look(1, () => t.status.proxyMoved()); // it asked
    t.look(2); // nothing moved, but its answer is due (a sidecar decoding megabytes)
    expect([t.computed, t.status.proxiesMoving]).toEqual([2, true]);
    s.state.answered('n1', undefined);
    t.look(3, () => t.status.proxyMoved()); // the ACK
    t.look(4); // stood still, nothing owed: computed
    expect([t.computed, t.status.proxiesMoving]).toEqual([3, false]);
    expect(t.status.summary('DestinationRule/ns/dr0')).toMatchObject({ acked: 1, expected: 1 });
  });

  it('waits longer than ten seconds for moving proxies when a computation takes long (twenty times as long)', () => {
    const s = setup(2);
    const t = clocked(s, 800); // the wait may last 16 s
    const at: number[] = [];
    for (let second = 1; second <= 20; second++) {
      const before = t.computed;
      t.look(second, () => storm(t.status));
      if (t.computed > before) at.push(second);
    }
    expect(at).toEqual([17]); // waiting since 1 s: forced once 16 s had passed
  });

  it('waits while a few moving proxies still owe answers, and computes once they have answered', () => {
    const s = setup(2);
    const t = clocked(s);
    sendUnanswered(s, 'n1');
    t.look(1, () => t.status.proxyMoved()); // it asked, and was sent a response
    expect(t.computed).toBe(2);
    s.state.answered('n1', undefined);
    t.look(2, () => t.status.proxyMoved()); // its ACK
    expect(t.computed).toBe(3);
    expect(t.status.summary('DestinationRule/ns/dr0')).toMatchObject({ acked: 1, expected: 1 });
  });

  it('lets a push reach every stream before its computation takes the next slice', async () => {
    const s = setup(2);
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const events: string[] = [];
    // 64 proxies, each read taking 1 ms: the computation takes several 10 ms slices (it looks at the clock every 16).
    const proxies = Array.from({ length: 64 }, () => Object.defineProperty({ ...s.proxy }, 'types', { get: () => (events.push('compute'), busy(1), s.proxy.types) }));
    // Streams of a push: 64 listeners on a view of the same cache, 1 ms each, told over several 20 ms turns.
    const { view } = s.cache.acquireView(['mesh']);
    for (let i = 0; i < 64; i++) view.onChange(() => (events.push('push'), busy(1)));
    sync = new SyncStatus(1000, 25);
    sync.attach({ ...s.inputs, proxies: () => proxies });
    const computed = new Promise<void>((resolve) => sync!.onComputed(resolve));
    sync.recompute(); // the first slice runs now, the next after this task
    s.collection.apply({ upsert: [cluster(0, 2, 'LEAST_REQUEST')] }); // a push, told from a microtask on
    await computed;
    const first = events.indexOf('push');
    const last = events.lastIndexOf('push');
    expect(events.filter((e) => e === 'push')).toHaveLength(64);
    expect(events.slice(first, last + 1).filter((e) => e === 'compute')).toEqual([]);
    expect(events.slice(last).some((e) => e === 'compute')).toBe(true);
  });

  it('lets counts held ten seconds through within the budget while proxies never stop moving', () => {
    const s = setup(3);
    let clock = 0;
    sync = new SyncStatus(1000, 1, () => clock);
    const told: Array<[string, number]> = [];
    sync.changes('DestinationRule').on({ onUpdate: (o) => void told.push([o.metadata.name, clock / 1000]) });
    sync.attach(s.inputs);
    sync.recompute();
    sync.recompute();
    ackAll(s, 'a');
    for (let second = 1; second <= 30; second++) {
      clock = second * 1000;
      s.state.revision++;
      storm(sync);
      sync.recompute();
    }
    // Computed at 11 (ten seconds of waiting), the counts held from then: one object per interval from 21 on.
    expect(told).toEqual([['dr0', 21], ['dr1', 22], ['dr2', 23]]);
  });

  it('tells every object once its proxies have settled after a start, or ten seconds after its first computation', () => {
    const objects = (kind: string) => (kind === 'DestinationRule' ? [{ metadata: { namespace: 'ns', name: 'dr0' } }] : []);
    for (const keepMoving of [false, true]) {
      const s = setup(1);
      let clock = 0;
      const status = new SyncStatus(1000, 25, () => clock);
      sync = status;
      const told: number[] = [];
      status.changes('DestinationRule').on({ onUpdate: () => void told.push(clock) });
      status.attach({ ...s.inputs, objects });
      const vs = { metadata: { namespace: 'ns', name: 'dr0', generation: 1 }, status: { conditions: [] } };
      for (let second = 0; second <= 12 && told.length === 0; second++) {
        clock = second * 1000;
        if (keepMoving) s.state.revision++;
        status.markDirty();
        status.recompute();
        if (told.length === 0) expect(status.details('DestinationRule', vs, { accepted: true, generation: 1 })?.conditions?.[0]).toMatchObject({ reason: 'Pending' });
      }
      status.stop();
      // Settled: at the second computation (the first saw the proxy connect); moving: once ten seconds passed.
      expect(told).toEqual([keepMoving ? 10_000 : 1000]);
    }
  });

  it('before its first computation, keeps what status says about the current generation (no Pending burst after a restart)', () => {
    sync = new SyncStatus(60_000);
    sync.attach({ cache: new ResourceCache(), proxies: () => [] });
    const condition = { type: 'Programmed', status: 'True' as const, reason: 'Programmed', message: 'in the configuration served to proxies', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const vs = (generation: number, observedGeneration: number) => ({ metadata: { namespace: 'shop', name: 'reviews', generation }, status: { conditions: [{ ...condition, observedGeneration }] } });
    expect(sync.details('VirtualService', vs(3, 3), { accepted: true, generation: 3 })!.conditions).toEqual([{ type: 'Programmed', status: 'True', reason: 'Programmed', message: 'in the configuration served to proxies' }]);
    expect(sync.details('VirtualService', vs(4, 3), { accepted: true, generation: 4 })!.conditions).toEqual([{ type: 'Programmed', status: 'Unknown', reason: 'Pending', message: 'the xDS server is starting' }]);
  });

  it('waits ten times as long as a computation took when that is longer than the interval', () => {
    const s = setup(3);
    let clock = 0;
    sync = new SyncStatus(1000, 25, () => (clock += 150)); // every reading 150 ms later: a computation "takes" 150 ms
    sync.attach(s.inputs);
    expect(sync.nextDelayMs).toBe(1000);
    sync.recompute();
    expect(sync.nextDelayMs).toBe(1500);
  });
});
