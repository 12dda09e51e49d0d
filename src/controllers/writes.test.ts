// Helpers that write to the API server: apply, status patches, finalizers, events. Against the fake server.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { apply, patchStatus } from './apply.js';
import type { ClusterAccess } from './cluster-access.js';
import { EventRecorder } from './events.js';
import { FakeApiServer } from './fake-api-server.js';
import { addFinalizer, hasFinalizer, removeFinalizer } from './finalizers.js';
import type { KubeObject } from './object.js';
import { controllerRef, getControllerOf, isControlledBy } from './owner-refs.js';
import { resources, type ResourceType } from './resource.js';
import { RestClient } from './rest-client.js';

const log = pino({ level: 'silent' });
const gateways: ResourceType = { group: 'weft.dev', version: 'v1alpha1', plural: 'gateways', kind: 'Gateway', namespaced: true };
interface Gateway extends KubeObject {
  spec?: { replicas?: number };
  status?: { ready?: boolean };
}

let server: FakeApiServer;
let client: RestClient;
beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  client = new RestClient(server.access());
});
afterEach(async () => {
  await client.close();
  await server.close();
});

describe('apply', () => {
  it('sends a server-side apply patch with field manager and force, to the object or its status', async () => {
    const applied = await apply<Gateway>(client, gateways, { metadata: { name: 'gw', namespace: 'ns' }, spec: { replicas: 2 } }, { fieldManager: 'weft' });
    expect(applied).toMatchObject({ apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', spec: { replicas: 2 } });
    const request = server.requests.at(-1)!;
    expect(request).toMatchObject({ method: 'PATCH', path: '/apis/weft.dev/v1alpha1/namespaces/ns/gateways/gw', contentType: 'application/apply-patch+yaml' });
    expect(Object.fromEntries(request.query)).toEqual({ fieldManager: 'weft', force: 'true' });

    await apply<Gateway>(client, gateways, { metadata: { name: 'gw', namespace: 'ns' }, status: { ready: true } }, { fieldManager: 'weft', subresource: 'status' });
    expect(server.requests.at(-1)!.path).toBe('/apis/weft.dev/v1alpha1/namespaces/ns/gateways/gw/status');
    await expect(apply(client, gateways, { metadata: { name: 'gw' } }, { fieldManager: 'weft' })).rejects.toThrow(/namespace is required/);
  });

  it('patchStatus merges the status, optionally guarded by resourceVersion', async () => {
    const stored = server.put('weft.dev/v1alpha1/gateways', { metadata: { name: 'gw', namespace: 'ns' }, spec: { replicas: 1 } });
    const patched = await patchStatus<Gateway>(client, gateways, { namespace: 'ns', name: 'gw' }, { ready: true }, { resourceVersion: stored.metadata!.resourceVersion });
    expect(patched).toMatchObject({ spec: { replicas: 1 }, status: { ready: true } });
    expect(server.requests.at(-1)).toMatchObject({ contentType: 'application/merge-patch+json', path: '/apis/weft.dev/v1alpha1/namespaces/ns/gateways/gw/status' });
    const stale = patchStatus<Gateway>(client, gateways, { namespace: 'ns', name: 'gw' }, { ready: false }, { resourceVersion: stored.metadata!.resourceVersion });
    await expect(stale).rejects.toMatchObject({ status: 409 });
  });
});

describe('finalizers', () => {
  it('adds and removes with a resourceVersion precondition', async () => {
    const stored = server.put('weft.dev/v1alpha1/gateways', { metadata: { name: 'gw', namespace: 'ns', finalizers: ['other.io/x'] } }) as Gateway;
    const added = await addFinalizer(client, gateways, stored, 'weft.dev/cleanup');
    expect(added.metadata?.finalizers).toEqual(['other.io/x', 'weft.dev/cleanup']);
    expect(hasFinalizer(added, 'weft.dev/cleanup')).toBe(true);
    expect(await addFinalizer(client, gateways, added, 'weft.dev/cleanup')).toBe(added); // no write when present

    await expect(removeFinalizer(client, gateways, stored, 'other.io/x')).rejects.toMatchObject({ status: 409 }); // stale copy
    const removed = await removeFinalizer(client, gateways, added, 'weft.dev/cleanup');
    expect(removed.metadata?.finalizers).toEqual(['other.io/x']);
  });
});

describe('owner references', () => {
  it('builds a controller reference and finds it again', () => {
    const owner: KubeObject = { apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', metadata: { name: 'gw', uid: 'u1' } };
    const ref = controllerRef(owner);
    expect(ref).toEqual({ apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', name: 'gw', uid: 'u1', controller: true, blockOwnerDeletion: true });
    const child: KubeObject = { metadata: { ownerReferences: [{ ...ref, name: 'x', uid: 'u0', controller: false }, ref] } };
    expect(getControllerOf(child)).toBe(ref);
    expect(isControlledBy(child, owner)).toBe(true);
    expect(isControlledBy(child, { metadata: { uid: 'u0' } })).toBe(false);
    expect(() => controllerRef({ metadata: { name: 'no-uid' } })).toThrow(/uid/);
  });
});

describe('EventRecorder', () => {
  const regarding: KubeObject = { apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'ns', uid: 'u1', resourceVersion: '7' } };

  it('writes events.k8s.io/v1 Events and folds repeats into one series', async () => {
    let now = Date.parse('2026-11-25T14:00:00.123Z');
    const recorder = new EventRecorder(client, { reportingController: 'weft.dev/operator', reportingInstance: 'pod-1', log, now: () => now });
    recorder.warning(regarding, 'InvalidSpec', 'Reconcile', 'spec.replicas must be positive');
    now += 1000;
    recorder.warning(regarding, 'InvalidSpec', 'Reconcile', 'spec.replicas must be positive');
    now += 1000;
    recorder.warning(regarding, 'InvalidSpec', 'Reconcile', 'spec.replicas must be positive');
    recorder.normal(regarding, 'Applied', 'Apply', 'deployment updated');
    await recorder.flush();

    const events = server.list('events.k8s.io/v1/events');
    expect(events).toHaveLength(2);
    const warning = events.find((e) => e.reason === 'InvalidSpec')!;
    expect(warning).toMatchObject({
      type: 'Warning',
      action: 'Reconcile',
      note: 'spec.replicas must be positive',
      reportingController: 'weft.dev/operator',
      reportingInstance: 'pod-1',
      eventTime: '2026-11-25T14:00:00.123000Z',
      regarding: { apiVersion: 'weft.dev/v1alpha1', kind: 'Gateway', name: 'gw', namespace: 'ns', uid: 'u1' },
      series: { count: 3, lastObservedTime: '2026-11-25T14:00:02.123000Z' },
    });
    expect(warning.metadata).toMatchObject({ namespace: 'ns' });
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('starts a new Event after the series window', async () => {
    let now = 0;
    const recorder = new EventRecorder(client, { reportingController: 'c', reportingInstance: 'i', log, now: () => now, seriesWindowMs: 60_000 });
    recorder.normal(regarding, 'Synced', 'Reconcile', 'ok');
    await recorder.flush();
    now += 61_000;
    recorder.normal(regarding, 'Synced', 'Reconcile', 'ok');
    await recorder.flush();
    expect(server.list('events.k8s.io/v1/events')).toHaveLength(2);
  });

  it('creates the Event again, with what it said, when a repeat finds it deleted', async () => {
    let now = Date.parse('2026-11-25T14:00:00Z');
    const recorder = new EventRecorder(client, { reportingController: 'c', reportingInstance: 'i', log, now: () => now });
    recorder.warning(regarding, 'InvalidSpec', 'Reconcile', 'spec.replicas must be positive');
    await recorder.flush();
    const [first] = server.list('events.k8s.io/v1/events');
    server.remove('events.k8s.io/v1/events', 'ns', String(first!.metadata!.name));
    now += 5_000;
    recorder.warning(regarding, 'InvalidSpec', 'Reconcile', 'spec.replicas must be positive');
    await recorder.flush();
    const events = server.list('events.k8s.io/v1/events');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Warning',
      reason: 'InvalidSpec',
      note: 'spec.replicas must be positive',
      regarding: { kind: 'Gateway', name: 'gw', uid: 'u1' },
      series: { count: 2, lastObservedTime: '2026-11-25T14:00:05.000000Z' },
    });
  });

  it('forgets ended series a window later even when nothing more is recorded (an operator at rest)', async () => {
    let now = 0;
    const recorder = new EventRecorder(client, { reportingController: 'c', reportingInstance: 'i', log, now: () => now, seriesWindowMs: 50 });
    recorder.normal(regarding, 'Synced', 'Reconcile', 'ok');
    recorder.normal({ ...regarding, metadata: { ...regarding.metadata, uid: 'u2' } }, 'Synced', 'Reconcile', 'ok');
    await recorder.flush();
    expect(recorder.heldSeries).toBe(2);
    now = 100;
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the window and the timer's second of slack
    expect(recorder.heldSeries).toBe(0);
  });

  it('writes at most maxConcurrentWrites Events at once: a burst of judgements waits its turn', async () => {
    const inner = server.access();
    let inFlight = 0;
    let most = 0;
    const counting: ClusterAccess = {
      server: inner.server,
      namespace: inner.namespace,
      close: () => inner.close(),
      send: async (request) => {
        most = Math.max(most, ++inFlight);
        try {
          return await inner.send(request);
        } finally {
          inFlight--;
        }
      },
    };
    const burstClient = new RestClient(counting);
    const recorder = new EventRecorder(burstClient, { reportingController: 'c', reportingInstance: 'i', log, maxConcurrentWrites: 3 });
    for (let i = 0; i < 60; i++) recorder.normal({ ...regarding, metadata: { ...regarding.metadata, uid: `u${i}` } }, 'Synced', 'Reconcile', 'ok');
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorder.pendingWrites).toBeGreaterThan(50); // what the start-up compaction waits for
    await recorder.flush();
    expect(recorder.pendingWrites).toBe(0);
    await burstClient.close();
    expect(server.list('events.k8s.io/v1/events')).toHaveLength(60);
    expect(most).toBe(3);
  });

  it('holds at most maxSeries written series, forgetting the least recently observed first', async () => {
    const recorder = new EventRecorder(client, { reportingController: 'c', reportingInstance: 'i', log, maxSeries: 5 });
    const about = (i: number): KubeObject => ({ ...regarding, metadata: { ...regarding.metadata, name: `gw${i}`, uid: `u${i}` } });
    for (let i = 0; i < 20; i++) recorder.normal(about(i), 'Accepted', 'Reconcile', 'ok');
    await recorder.flush();
    expect(server.list('events.k8s.io/v1/events')).toHaveLength(20);
    expect(recorder.heldSeries).toBe(5); // objects 15..19
    recorder.normal(about(15), 'Accepted', 'Reconcile', 'ok'); // observed again: now the most recent
    recorder.normal(about(20), 'Accepted', 'Reconcile', 'ok'); // a new series: 16 goes
    await recorder.flush();
    recorder.normal(about(15), 'Accepted', 'Reconcile', 'ok'); // still held: its series counts 3
    recorder.normal(about(16), 'Accepted', 'Reconcile', 'ok'); // forgotten: a new Event
    await recorder.flush();
    const events = server.list('events.k8s.io/v1/events');
    expect(events.filter((e) => (e.regarding as { name: string }).name === 'gw15').map((e) => (e.series as { count: number } | undefined)?.count)).toEqual([3]);
    expect(events.filter((e) => (e.regarding as { name: string }).name === 'gw16')).toHaveLength(2);
    expect(recorder.heldSeries).toBe(5);
  });

  it('never throws into the caller when writing fails', async () => {
    const recorder = new EventRecorder(client, { reportingController: 'c', reportingInstance: 'i', log });
    await server.close();
    expect(() => recorder.warning(regarding, 'Broken', 'Reconcile', 'the API server is down')).not.toThrow();
    expect(() => recorder.normal({ metadata: { name: 'no-kind' } }, 'X', 'Y', 'z')).not.toThrow();
    await expect(recorder.flush()).resolves.toBeUndefined();
    server = new FakeApiServer();
    await server.start(); // for afterEach
  });
});
