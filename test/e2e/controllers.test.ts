// The controller framework against a real API server: leader election on a real Lease, an informer over
// ConfigMaps, and the write helpers (apply, finalizers, Events) passing the API server's validation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import {
  addFinalizer,
  apply,
  controller,
  EventRecorder,
  Informer,
  KubeLeaseStore,
  LeaderElector,
  loadClusterAccess,
  Manager,
  removeFinalizer,
  resources,
  RestClient,
  type Json,
  type KubeObject,
} from '../../src/controllers/index.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';

const log = pino({ level: 'silent' });
const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const client = new RestClient(loadClusterAccess());
let ns: Awaited<ReturnType<typeof throwawayNamespace>>;

beforeAll(async () => {
  ns = await throwawayNamespace(kc, 'controllers');
});
afterAll(async () => {
  await ns?.remove();
  await client.close();
});

describe('leader election on a real Lease', () => {
  it('elects exactly one leader; a leader that dies without releasing is replaced after the lease duration', async () => {
    const store = new KubeLeaseStore(client, ns.name, 'election');
    const timings = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
    const leading = new Set<string>();
    let overlaps = 0;
    const candidate = (identity: string) => {
      const abort = new AbortController();
      const elector = new LeaderElector(
        store,
        { name: 'election', identity, releaseOnCancel: identity !== 'a', ...timings },
        {
          onStartedLeading: () => {
            if (leading.size > 0) overlaps++; // never two at once
            leading.add(identity);
          },
          onStoppedLeading: () => leading.delete(identity),
        },
        { log },
      );
      return { elector, abort, done: elector.run(abort.signal) };
    };
    const a = candidate('a');
    await eventually('a to lead', async () => (a.elector.isLeader() ? true : undefined));
    const b = candidate('b');
    await new Promise((r) => setTimeout(r, 3000));
    expect([...leading]).toEqual(['a']);

    const leaseBefore = await store.get();
    expect(leaseBefore!.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const diedAt = Date.now();
    a.abort.abort(); // a "crashes": no release
    await a.done;
    expect((await store.get())!.spec.holderIdentity).toBe('a');
    await eventually('b to take over', async () => (b.elector.isLeader() ? true : undefined), 30_000);
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(timings.leaseDurationMs - 1000); // waited for expiry, by its own clock
    expect((await store.get())!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });

    b.abort.abort(); // graceful: releases
    await b.done;
    expect((await store.get())!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(overlaps).toBe(0);
  }, 60_000);
});

describe('Informer over ConfigMaps', () => {
  it('sees adds, updates and deletes, with listed and watched objects alike', async () => {
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'before' }, data: { v: '1' } } });
    const informer = new Informer<Json<k8s.V1ConfigMap>>(client, { resource: resources.configMaps, namespace: ns.name }, { log, pageSize: 1 });
    const events: string[] = [];
    informer.on({
      onAdd: (o) => events.push(`add ${o.metadata?.name}`),
      onUpdate: (_old, o) => events.push(`update ${o.metadata?.name} ${o.data?.v}`),
      onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    informer.start();
    try {
      expect(await informer.waitForSync()).toBe(true);
      expect(informer.get(ns.name, 'before')).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { v: '1' } });

      await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'after' }, data: { v: '1' } } });
      await core.patchNamespacedConfigMap(
        { namespace: ns.name, name: 'after', body: { data: { v: '2' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'after' });
      await eventually('the delete event', async () => (events.includes('delete after') ? true : undefined), 15_000);
      expect(events.filter((e) => e.endsWith(' after') || e.includes(' after '))).toEqual(['add after', 'update after 2', 'delete after']);

      // Both came from the API server's JSON untouched: same fields, timestamps as strings.
      const listed = informer.get(ns.name, 'before')!;
      expect(typeof listed.metadata?.creationTimestamp).toBe('string');
      await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'watched' }, data: { v: '1' } } });
      await eventually('the watched object', async () => informer.get(ns.name, 'watched'));
      const watched = informer.get(ns.name, 'watched')!;
      expect(Object.keys(watched).sort()).toEqual(Object.keys(listed).sort());
      expect(Object.keys(watched.metadata!).sort()).toEqual(Object.keys(listed.metadata!).sort());
    } finally {
      await informer.stop();
    }
  }, 60_000);
});

describe('write helpers against real validation', () => {
  it('server-side applies, adds and removes a finalizer, and records a deduplicated Event', async () => {
    const applied = await apply(client, resources.configMaps, { metadata: { name: 'applied', namespace: ns.name }, data: { a: '1' } } as KubeObject, {
      fieldManager: 'weft-e2e',
    });
    expect(applied.metadata?.uid).toBeTruthy();
    const withFinalizer = await addFinalizer(client, resources.configMaps, applied, 'weft.dev/e2e');
    expect(withFinalizer.metadata?.finalizers).toEqual(['weft.dev/e2e']);
    await core.patchNamespacedConfigMap(
      { namespace: ns.name, name: 'applied', body: { data: { a: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    // Our copy is stale now: the resourceVersion precondition turns the write into a 409, not a lost update.
    await expect(removeFinalizer(client, resources.configMaps, withFinalizer, 'weft.dev/e2e')).rejects.toMatchObject({ status: 409 });
    const fresh = await client.json<KubeObject>('GET', `/api/v1/namespaces/${ns.name}/configmaps/applied`);
    const without = await removeFinalizer(client, resources.configMaps, fresh, 'weft.dev/e2e');
    expect(without.metadata?.finalizers ?? []).toEqual([]);

    const recorder = new EventRecorder(client, { reportingController: 'weft.dev/e2e', reportingInstance: 'e2e-1', log });
    recorder.warning(applied, 'InvalidSpec', 'Reconcile', 'data.a must be a word');
    await recorder.flush();
    recorder.warning(applied, 'InvalidSpec', 'Reconcile', 'data.a must be a word');
    await recorder.flush();
    // What `kubectl describe configmap applied` lists: core/v1 Events by involvedObject.
    const described = await eventually('the Event', async () => {
      const list = await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.name=applied,involvedObject.kind=ConfigMap` });
      return list.items.length > 0 ? list.items : undefined;
    });
    expect(described).toHaveLength(1);
    expect(described[0]).toMatchObject({ reason: 'InvalidSpec', type: 'Warning', message: 'data.a must be a word', reportingComponent: 'weft.dev/e2e' });
    expect(described[0]!.series?.count).toBe(2);
  }, 60_000);
});

describe('Manager', () => {
  it('leads, reconciles ConfigMaps, and releases its lease on stop', async () => {
    const manager = new Manager({
      access: loadClusterAccess(),
      log,
      http: { port: 0, host: '127.0.0.1' },
      handleSignals: false,
      defaultMetrics: false,
      leaderElection: { namespace: ns.name, name: 'manager', leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
    });
    const reconciled = new Set<string>();
    const configMaps = manager.informer<Json<k8s.V1ConfigMap>>({ resource: resources.configMaps, namespace: ns.name, labelSelector: 'weft.dev/e2e-manager=yes' });
    controller(manager, 'configmaps')
      .for(configMaps)
      .complete({ reconcile: async ({ name }) => void reconciled.add(name) });
    const running = manager.start();
    try {
      await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'managed', labels: { 'weft.dev/e2e-manager': 'yes' } } } });
      await eventually('the reconcile', async () => (reconciled.has('managed') ? true : undefined), 30_000);
      expect((await fetch(`http://127.0.0.1:${manager.httpPort}/readyz`)).status).toBe(200);
    } finally {
      await manager.stop();
      await running;
    }
    const lease = await new KubeLeaseStore(client, ns.name, 'manager').get();
    expect(lease!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  }, 60_000);
});
