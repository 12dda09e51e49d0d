// The manager end to end against the fake API server: shared informers, leader-only controllers, the lease,
// the probes, losing leadership and graceful shutdown.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { controller, type Request } from './controller.js';
import { FakeApiServer } from './fake-api-server.js';
import { Manager, type ManagerOptions } from './manager.js';
import type { KubeObject } from './object.js';
import { resources } from './resource.js';

const log = pino({ level: 'silent' });
const leases = 'coordination.k8s.io/v1/leases';
const configMaps = 'v1/configmaps';

async function eventually(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: FakeApiServer;
let managers: Array<{ manager: Manager; running: Promise<void> }>;

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  managers = [];
});
afterEach(async () => {
  for (const { manager, running } of managers) {
    await manager.stop();
    await running.catch(() => undefined);
  }
  await server.close();
});

/** A manager with one ConfigMap controller that records what it reconciles. */
function startManager(options: Partial<ManagerOptions> = {}, reconcile?: (req: Request, signal: AbortSignal) => Promise<void>) {
  const manager = new Manager({
    access: server.access(),
    log,
    http: { port: 0, host: '127.0.0.1' },
    handleSignals: false,
    defaultMetrics: false,
    leaderElection: { namespace: 'weft-system', name: 'weft-operator', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 200 },
    informerOptions: { backoff: { initialMs: 5, maxMs: 50 } },
    ...options,
  });
  const reconciled: string[] = [];
  const informer = manager.informer<KubeObject>({ resource: resources.configMaps, namespace: 'ns' });
  controller(manager, 'configmaps')
    .for(informer)
    .complete({
      reconcile: async (req, { signal }) => {
        reconciled.push(req.name);
        await reconcile?.(req, signal);
      },
    });
  const running = manager.start();
  managers.push({ manager, running });
  return { manager, reconciled, informer, running };
}

const lease = () => server.get(leases, 'weft-system', 'weft-operator') as (KubeObject & { spec: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number } }) | undefined;

describe('Manager', () => {
  it('shares informers by spec', () => {
    const manager = new Manager({ access: server.access(), log, handleSignals: false, defaultMetrics: false });
    const a = manager.informer({ resource: resources.configMaps, namespace: 'ns' });
    expect(manager.informer({ resource: resources.configMaps, namespace: 'ns' })).toBe(a);
    expect(manager.informer({ resource: resources.configMaps, namespace: 'other' })).not.toBe(a);
    expect(manager.informer({ resource: resources.configMaps, namespace: 'ns', labelSelector: 'app=x' })).not.toBe(a);
  });

  it('leads, reconciles, reports ready, and on stop releases the lease and closes everything', async () => {
    server.put(configMaps, { metadata: { name: 'a', namespace: 'ns' } });
    const { manager, reconciled, running } = startManager();
    await eventually('the first reconcile', () => reconciled.includes('a'));
    expect(lease()!.spec.holderIdentity).toBe(manager.identity);
    expect(manager.isLeader()).toBe(true);
    const base = `http://127.0.0.1:${manager.httpPort}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain(`leader_election_master_status{name="weft-operator"} 1`);

    server.put(configMaps, { metadata: { name: 'b', namespace: 'ns' } });
    await eventually('the reconcile of a new object', () => reconciled.includes('b'));

    await manager.stop();
    await running;
    expect(lease()!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await eventually('the watch connection to close', () => server.openWatches() === 0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('runs controllers on the leader only; a peer takes over right after a graceful release', async () => {
    server.put(configMaps, { metadata: { name: 'a', namespace: 'ns' } });
    const first = startManager();
    await eventually('the first replica to lead', () => first.reconciled.includes('a'));
    const second = startManager();
    await eventually('the second replica to sync', () => second.informer.hasSynced());
    await new Promise((r) => setTimeout(r, 500)); // several retry periods
    expect(second.reconciled).toEqual([]);
    expect(second.manager.isLeader()).toBe(false);

    await first.manager.stop();
    await eventually('the second replica to take over', () => second.reconciled.includes('a'));
    expect(lease()!.spec).toMatchObject({ holderIdentity: second.manager.identity, leaseTransitions: 1 });
  });

  it('stops controllers the moment leadership is lost and calls onLeadershipLost', async () => {
    let abortedReconcile = false;
    let lost = 0;
    server.put(configMaps, { metadata: { name: 'slow', namespace: 'ns' } });
    const { manager, reconciled } = startManager({ onLeadershipLost: () => void lost++ }, (_req, signal) =>
      new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          abortedReconcile = true;
          resolve();
        });
      }),
    );
    await eventually('the slow reconcile to start', () => reconciled.includes('slow'));
    const current = lease()!;
    server.put(leases, { ...current, spec: { ...current.spec, holderIdentity: 'someone-else' } }); // another replica took the lease
    await eventually('leadership loss', () => lost === 1);
    expect(abortedReconcile).toBe(true);
    expect(manager.isLeader()).toBe(false);
    server.put(configMaps, { metadata: { name: 'after-loss', namespace: 'ns' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(reconciled).not.toContain('after-loss');
  });

  it('with campaignAfterLoss, stops controllers on loss, then leads again once the lease is free and reconciles', async () => {
    let lost = 0;
    server.put(configMaps, { metadata: { name: 'before', namespace: 'ns' } });
    const { manager, reconciled } = startManager({ campaignAfterLoss: true, onLeadershipLost: () => void lost++ });
    await eventually('the first reconcile', () => reconciled.includes('before'));
    const current = lease()!;
    server.put(leases, { ...current, spec: { ...current.spec, holderIdentity: 'someone-else' } }); // another replica took the lease
    await eventually('leadership loss', () => !manager.isLeader());
    server.put(configMaps, { metadata: { name: 'while-follower', namespace: 'ns' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(reconciled).not.toContain('while-follower'); // a follower writes nothing
    // The other replica's lease runs out (it never renews): this one campaigns, leads, and catches up.
    await eventually('leading again', () => manager.isLeader(), 10_000);
    await eventually('the change made while following to be reconciled', () => reconciled.includes('while-follower'), 10_000);
    expect(lost).toBe(0); // not the exit path
    expect(lease()!.spec.holderIdentity).toBe(manager.identity);
  });

  it('starts leader-only runnables after the informers are synced, and fails start() when one fails', async () => {
    server.put(configMaps, { metadata: { name: 'a', namespace: 'ns' } });
    const manager = new Manager({ access: server.access(), log, http: false, handleSignals: false, defaultMetrics: false });
    const informer = manager.informer<KubeObject>({ resource: resources.configMaps, namespace: 'ns' });
    let syncedAtStart: boolean | undefined;
    manager.add({
      needLeaderElection: true,
      start: async () => {
        syncedAtStart = informer.hasSynced();
        throw new Error('broken runnable');
      },
    });
    const running = manager.start();
    managers.push({ manager, running });
    await expect(running).rejects.toThrow('broken runnable');
    expect(syncedAtStart).toBe(true);
  });
});
