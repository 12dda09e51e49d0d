import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { controller, requestForOwner, type Controller, type ControllerHost, type Reconciler, type Request, type Runnable, type Source } from './controller.js';
import { EventLoopSlices } from './event-loop-slices.js';
import type { InformerHandler } from './informer.js';
import { Metrics } from './metrics.js';
import type { KubeObject } from './object.js';
import { controllerRef } from './owner-refs.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ResourceType } from './resource.js';

const gateways: ResourceType = { group: 'weft.dev', version: 'v1alpha1', plural: 'gateways', kind: 'Gateway', namespaced: true };
const deployments: ResourceType = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true };
const configMaps: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };

/** A Source the test drives by hand; like an Informer it first replays what it `holds` to a new handler. */
class FakeSource implements Source<KubeObject> {
  private readonly handlers = new Set<InformerHandler<KubeObject>>();
  constructor(
    readonly resource: ResourceType,
    private readonly holds: KubeObject[] = [],
  ) {}
  on(handler: InformerHandler<KubeObject>): () => void {
    this.handlers.add(handler);
    for (const obj of this.holds) handler.onAdd?.(obj);
    return () => this.handlers.delete(handler);
  }
  waitForSync(): Promise<boolean> {
    return Promise.resolve(true);
  }
  add(obj: KubeObject): void {
    for (const h of this.handlers) h.onAdd?.(obj);
  }
  update(old: KubeObject, obj: KubeObject): void {
    for (const h of this.handlers) h.onUpdate?.(old, obj);
  }
  get subscribers(): number {
    return this.handlers.size;
  }
}

/** A limiter that answers 1 ms and records what the queue asked. */
class SpyLimiter implements RateLimiter {
  readonly failures: string[] = [];
  readonly forgotten: string[] = [];
  when(key: string): number {
    this.failures.push(key);
    return 1;
  }
  forget(key: string): void {
    this.forgotten.push(key);
  }
  numRequeues(key: string): number {
    return this.failures.filter((k) => k === key).length;
  }
}

const obj = (name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({ metadata: { name, namespace: 'ns', uid: `uid-${name}`, ...extra } });
const gateway = (name: string): KubeObject => ({ apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', ...obj(name) });

async function eventually(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let running: Array<{ abort: AbortController; done: Promise<void> }> = [];
afterEach(async () => {
  for (const r of running) r.abort.abort();
  await Promise.all(running.map((r) => r.done));
  running = [];
});

function host(): ControllerHost & { runnables: Runnable[] } {
  const runnables: Runnable[] = [];
  return { log: pino({ level: 'silent' }), metrics: new Metrics({ defaultMetrics: false }), add: (r) => runnables.push(r), runnables };
}

function run(c: Controller): AbortController {
  const abort = new AbortController();
  running.push({ abort, done: c.start(abort.signal) });
  return abort;
}

describe('requestForOwner', () => {
  it('maps a child to its controlling owner of the primary kind only', () => {
    const child = (refs: KubeObject['metadata']) => ({ metadata: { name: 'child', namespace: 'ns', ...refs } });
    expect(requestForOwner(child({ ownerReferences: [controllerRef(gateway('gw'))] }), gateways)).toEqual([{ namespace: 'ns', name: 'gw' }]);
    const notController = { ...controllerRef(gateway('gw')), controller: false };
    expect(requestForOwner(child({ ownerReferences: [notController] }), gateways)).toEqual([]);
    const otherGroup = { ...controllerRef(gateway('gw')), apiVersion: 'gateway.networking.k8s.io/v1' };
    expect(requestForOwner(child({ ownerReferences: [otherGroup] }), gateways)).toEqual([]);
    const clusterScoped = { ...gateways, namespaced: false };
    expect(requestForOwner(child({ ownerReferences: [controllerRef(gateway('gw'))] }), clusterScoped)).toEqual([{ namespace: '', name: 'gw' }]);
  });
});

describe('controller', () => {
  it('registers with its host and enqueues primaries, owned children (by owner) and mapped objects', async () => {
    const h = host();
    const primary = new FakeSource(gateways);
    const owned = new FakeSource(deployments);
    const other = new FakeSource(configMaps);
    const seen: string[] = [];
    const c = controller(h, 'gateway')
      .for(primary)
      .owns(owned)
      .watches(other, (cm) => [{ namespace: 'ns', name: cm.metadata?.labels?.gateway ?? '' }])
      .complete({ reconcile: async (req) => void seen.push(`${req.namespace}/${req.name}`) });
    expect(h.runnables).toEqual([c]);
    expect(c.needLeaderElection).toBe(true);
    run(c);
    await eventually('subscriptions', () => primary.subscribers === 1 && owned.subscribers === 1 && other.subscribers === 1);
    primary.add(gateway('a'));
    owned.add({ metadata: { name: 'a-proxy', namespace: 'ns', ownerReferences: [controllerRef(gateway('b'))] } });
    owned.add({ metadata: { name: 'unowned', namespace: 'ns' } });
    other.add(obj('settings', { labels: { gateway: 'c' } }));
    await eventually('three reconciles', () => seen.length === 3);
    expect(seen.sort()).toEqual(['ns/a', 'ns/b', 'ns/c']);
  });

  it('on update enqueues both the old and the new owner', async () => {
    const h = host();
    const primary = new FakeSource(gateways);
    const owned = new FakeSource(deployments);
    const seen: string[] = [];
    const c = controller(h, 'gw').for(primary).owns(owned).complete({ reconcile: async (r) => void seen.push(r.name) });
    run(c);
    await eventually('subscriptions', () => owned.subscribers === 1);
    const child = (owner: string): KubeObject => ({ metadata: { name: 'd', namespace: 'ns', ownerReferences: [controllerRef(gateway(owner))] } });
    owned.update(child('old-owner'), child('new-owner'));
    await eventually('both owners', () => seen.length === 2);
    expect(seen.sort()).toEqual(['new-owner', 'old-owner']);
  });

  it('retries errors with rate-limited backoff, then forgets the key on success', async () => {
    const h = host();
    const source = new FakeSource(gateways);
    const limiter = new SpyLimiter();
    let calls = 0;
    const c = controller(h, 'flaky')
      .for(source)
      .withRateLimiter(() => limiter)
      .complete({
        reconcile: async () => {
          calls++;
          if (calls <= 2) throw new Error('transient');
        },
      });
    run(c);
    await eventually('subscription', () => source.subscribers === 1);
    source.add(gateway('a'));
    await eventually('the successful third try', () => limiter.forgotten.length === 1);
    expect(calls).toBe(3);
    expect(limiter.failures).toEqual(['ns/a', 'ns/a']);
    expect(limiter.forgotten).toEqual(['ns/a']);
    const text = await h.metrics.registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="flaky",result="error"} 2');
    expect(text).toContain('controller_runtime_reconcile_total{controller="flaky",result="success"} 1');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="flaky"} 2');
    expect(text).toContain('workqueue_retries_total{name="flaky"} 2');
  });

  it('requeueAfter reconciles again later and resets the backoff; requeue uses the rate limiter', async () => {
    const h = host();
    const source = new FakeSource(gateways);
    const limiter = new SpyLimiter();
    const results = [{ requeueAfterMs: 20 }, { requeue: true }, undefined];
    let calls = 0;
    const c = controller(h, 'periodic')
      .for(source)
      .withRateLimiter(() => limiter)
      .complete({ reconcile: async () => results[calls++] });
    run(c);
    await eventually('subscription', () => source.subscribers === 1);
    source.add(gateway('a'));
    await eventually('three reconciles', () => calls === 3);
    expect(limiter.forgotten).toEqual(['ns/a', 'ns/a']); // after requeueAfter and after the final success
    expect(limiter.failures).toEqual(['ns/a']); // the plain requeue
    const text = await h.metrics.registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="periodic",result="requeue_after"} 1');
    expect(text).toContain('controller_runtime_reconcile_total{controller="periodic",result="requeue"} 1');
  });

  it('runs different keys in parallel but never one key twice at once', async () => {
    const h = host();
    const source = new FakeSource(gateways);
    const inFlight = new Map<string, number>();
    let maxSameKey = 0;
    let maxTotal = 0;
    let reconciles = 0;
    const reconciler: Reconciler = {
      reconcile: async (req: Request) => {
        const n = (inFlight.get(req.name) ?? 0) + 1;
        inFlight.set(req.name, n);
        maxSameKey = Math.max(maxSameKey, n);
        maxTotal = Math.max(maxTotal, [...inFlight.values()].reduce((a, b) => a + b, 0));
        await new Promise((r) => setTimeout(r, 20));
        inFlight.set(req.name, n - 1);
        reconciles++;
      },
    };
    const c = controller(h, 'parallel').for(source).withMaxConcurrentReconciles(4).complete(reconciler);
    run(c);
    await eventually('subscription', () => source.subscribers === 1);
    source.add(gateway('a'));
    source.add(gateway('b'));
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 5; i++) source.update(gateway('a'), gateway('a')); // changes while 'a' is being reconciled
    await eventually('the re-run of a', () => reconciles >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(maxSameKey).toBe(1);
    expect(maxTotal).toBe(2);
    expect(reconciles).toBe(3); // a, b, then a once more for all the changes during its first run
  });

  it('stop aborts in-flight reconciles at once and does not retry them', async () => {
    const h = host();
    const source = new FakeSource(gateways);
    const limiter = new SpyLimiter();
    let sawAbort = false;
    let started = false;
    const c = controller(h, 'stoppable')
      .for(source)
      .withRateLimiter(() => limiter)
      .complete({
        reconcile: (_req, { signal }) =>
          new Promise((_, reject) => {
            started = true;
            signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(new Error('aborted'));
            });
          }),
      });
    const abort = new AbortController();
    const done = c.start(abort.signal);
    await eventually('subscription', () => source.subscribers === 1);
    source.add(gateway('a'));
    await eventually('the reconcile to start', () => started);
    c.stop();
    await done;
    expect(sawAbort).toBe(true);
    expect(limiter.failures).toEqual([]);
    expect(source.subscribers).toBe(0);
    expect(c.queue).toBeUndefined();
  });

  it("with replay: false, maps a watched source's later events but not what it held when the controller started", async () => {
    const h = host();
    const primary = new FakeSource(gateways, [gateway('a'), gateway('b')]);
    const other = new FakeSource(configMaps, [obj('settings-b', { labels: { gateway: 'b' } }), obj('settings-x', { labels: { gateway: 'x' } })]);
    const mapped: string[] = [];
    const seen: string[] = [];
    const toGateway = (cm: KubeObject) => {
      mapped.push(cm.metadata!.name!);
      return [{ namespace: 'ns', name: cm.metadata?.labels?.gateway ?? '' }];
    };
    const c = controller(h, 'gateway')
      .for(primary)
      .watches(other, toGateway, undefined, { replay: false })
      .complete({ reconcile: async (req) => void seen.push(req.name) });
    run(c);
    await eventually('the primaries it held', () => seen.length === 2);
    expect(mapped).toEqual([]);
    other.add(obj('settings-c', { labels: { gateway: 'c' } }));
    await eventually('the mapped add', () => seen.length === 3);
    expect(mapped).toEqual(['settings-c']);
    expect(seen.sort()).toEqual(['a', 'b', 'c']);
  });

  it('hands the event loop back between slices of reconciles that never wait', async () => {
    const objects = Array.from({ length: 200 }, (_, i) => gateway(`g${i}`));
    const source = new FakeSource(gateways, objects);
    let reconciled = 0;
    const busyFor = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    const h = { ...host(), slices: new EventLoopSlices(2) };
    const c = controller(h, 'busy')
      .for(source)
      .complete({
        reconcile: async () => {
          busyFor(0.5); // judged and found up to date: no I/O to wait on
          reconciled++;
        },
      });
    run(c);
    // Without slices the 200 reconciles (~100 ms) would all run before this timer's turn.
    const atFirstTurn = await new Promise<number>((resolve) => setTimeout(() => resolve(reconciled), 0));
    expect(atFirstTurn).toBeLessThan(objects.length);
    await eventually('every reconcile', () => reconciled === objects.length);
  });

  it('requires for() and a positive worker count', () => {
    expect(() => controller(host(), 'x').complete({ reconcile: async () => undefined })).toThrow(/for\(\) is required/);
    expect(() => controller(host(), 'x').withMaxConcurrentReconciles(0)).toThrow(/positive/);
  });
});
