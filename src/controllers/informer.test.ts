// The informer against a real HTTP server on 127.0.0.1 that speaks list/watch and breaks watches on demand.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { FakeApiServer } from './fake-api-server.js';
import { Informer } from './informer.js';
import type { KubeObject } from './object.js';
import { resources } from './resource.js';
import { RestClient } from './rest-client.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const collection = 'v1/configmaps';
const log = pino({ level: 'silent' });
const configMap = (name: string, value = 'x'): ConfigMap & Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns' },
  data: { value },
});

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: FakeApiServer;
let client: RestClient;
let informer: Informer<ConfigMap>;
let events: string[];

const names = (): string[] => informer.list().map((o) => `${o.metadata?.name}=${o.data?.value}`).sort();
const serverNames = (): string[] => server.list(collection).map((o) => `${o.metadata?.name}=${(o as ConfigMap).data?.value}`).sort();
const lists = (): number => server.requests.filter((r) => r.method === 'GET' && !r.query.has('watch')).length;
const watches = (): Array<URLSearchParams> => server.requests.filter((r) => r.query.has('watch')).map((r) => r.query);

async function startInformer(options: { inactivityTimeoutMs?: number; pageSize?: number } = {}): Promise<void> {
  informer = new Informer<ConfigMap>(client, { resource: resources.configMaps, namespace: 'ns' }, { log, backoff: { initialMs: 5, maxMs: 20 }, ...options });
  events = [];
  informer.on({
    onAdd: (o) => events.push(`add ${o.metadata?.name}`),
    onUpdate: (old, o) => events.push(`update ${o.metadata?.name} ${old.data?.value}->${o.data?.value}`),
    onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  informer.start();
  expect(await informer.waitForSync()).toBe(true);
  await eventually('the watch to open', () => server.openWatches() === 1);
}

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  client = new RestClient(server.access());
});

afterEach(async () => {
  await informer?.stop();
  await client.close();
  await server.close();
});

describe('Informer', () => {
  it('lists page by page, then follows the watch; listed and watched objects look alike', async () => {
    for (const n of ['a', 'b', 'c', 'd', 'e']) server.put(collection, configMap(n));
    await startInformer({ pageSize: 2 });
    expect(lists()).toBe(3);
    expect(names()).toEqual(['a=x', 'b=x', 'c=x', 'd=x', 'e=x']);
    expect(watches()[0]!.get('resourceVersion')).toBe(informer.lastSyncResourceVersion());
    expect(watches()[0]!.get('allowWatchBookmarks')).toBe('true');
    expect(Number(watches()[0]!.get('timeoutSeconds'))).toBeGreaterThanOrEqual(300);

    server.put(collection, configMap('f'));
    server.put(collection, configMap('a', 'y'));
    server.remove(collection, 'ns', 'b');
    await eventually('watch events', () => events.length === 8);
    expect(events.slice(5)).toEqual(['add f', 'update a x->y', 'delete b']);
    expect(names()).toEqual(serverNames());

    // List items carry no apiVersion/kind on the wire; the informer fills them in, so both paths agree.
    const listed = informer.get('ns', 'c')!;
    const watched = informer.get('ns', 'f')!;
    expect(listed).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(Object.keys(listed).sort()).toEqual(Object.keys(watched).sort());
    expect(typeof listed.metadata?.uid).toBe('string');
  });

  it('keeps the cached spec object across updates that leave the spec as it was', async () => {
    const withSpec = (replicas: number, phase: string): ConfigMap & Record<string, unknown> => ({ ...configMap('a'), spec: { replicas, selector: { app: 'web' } }, status: { phase } });
    server.put(collection, withSpec(1, 'Pending'));
    await startInformer();
    const spec = (informer.get('ns', 'a') as { spec?: object }).spec;
    server.put(collection, withSpec(1, 'Running')); // a status write: the server sends the whole object again
    await eventually('the status update', () => (informer.get('ns', 'a') as { status?: { phase: string } }).status?.phase === 'Running');
    expect((informer.get('ns', 'a') as { spec?: object }).spec).toBe(spec);
    server.put(collection, withSpec(2, 'Running'));
    await eventually('the spec update', () => (informer.get('ns', 'a') as { spec?: { replicas: number } }).spec?.replicas === 2);
    expect((informer.get('ns', 'a') as { spec?: object }).spec).not.toBe(spec);
  });

  it('resumes from the last resourceVersion when the stream ends, without relisting', async () => {
    server.put(collection, configMap('a'));
    await startInformer();
    server.closeWatches();
    server.put(collection, configMap('a', 'changed')); // happens while no watch is open
    server.put(collection, configMap('b'));
    await eventually('the missed changes', () => names().join() === 'a=changed,b=x');
    expect(lists()).toBe(1);
    expect(watches()).toHaveLength(2);
    expect(events).toEqual(['add a', 'update a x->changed', 'add b']);
  });

  it('tracks bookmarks so a restarted watch starts from the newest resourceVersion', async () => {
    await startInformer();
    server.put('v1/secrets', { metadata: { name: 'other', namespace: 'ns' } }); // moves the global resourceVersion
    server.bookmark();
    await eventually('the bookmark', () => informer.lastSyncResourceVersion() === String(server.get('v1/secrets', 'ns', 'other')!.metadata!.resourceVersion));
  });

  for (const goneAs of ['event', 'http'] as const) {
    it(`relists on 410 Gone (${goneAs === 'event' ? 'ERROR event' : 'HTTP status'}) and emits what the outage hid`, async () => {
      server.goneAs = goneAs;
      server.put(collection, configMap('stays'));
      server.put(collection, configMap('changes'));
      server.put(collection, configMap('goes'));
      await startInformer();
      events.length = 0;
      server.closeWatches();
      server.remove(collection, 'ns', 'goes');
      server.put(collection, configMap('changes', 'new'));
      server.put(collection, configMap('arrives'));
      server.compact(); // the resumed watch's resourceVersion is now too old
      await eventually('the relist', () => lists() === 2 && events.length === 3);
      expect(events.sort()).toEqual(['add arrives', 'delete goes', 'update changes x->new']);
      expect(names()).toEqual(serverNames());
    });
  }

  it('relists when an open watch receives an ERROR 410 event', async () => {
    server.put(collection, configMap('a'));
    await startInformer();
    server.expireWatches();
    await eventually('the relist', () => lists() === 2);
    await eventually('a new watch', () => server.openWatches() === 1);
    server.put(collection, configMap('b'));
    await eventually('events after the relist', () => names().join() === 'a=x,b=x');
  });

  it('restarts a watch that goes silent and catches up from its resourceVersion', async () => {
    await startInformer({ inactivityTimeoutMs: 300 });
    server.silenceWatches(); // connected, but nothing arrives any more
    server.put(collection, configMap('during-silence'));
    await eventually('the object after the watch restarts', () => informer.get('ns', 'during-silence'));
    expect(watches().length).toBeGreaterThanOrEqual(2);
    expect(lists()).toBe(1);
    expect(events).toEqual(['add during-silence']);
  });

  it('replays the cache to handlers added after sync, and supports indexes', async () => {
    server.put(collection, { ...configMap('a'), metadata: { name: 'a', namespace: 'ns', labels: { app: 'web' } } });
    server.put(collection, configMap('b'));
    await startInformer();
    const late: string[] = [];
    informer.on({ onAdd: (o) => late.push(o.metadata!.name!) });
    expect(late.sort()).toEqual(['a', 'b']);
    informer.addIndex('app', (o) => (o.metadata?.labels?.app ? [o.metadata.labels.app] : []));
    expect(informer.byIndex('app', 'web').map((o) => o.metadata?.name)).toEqual(['a']);
  });

  it('keeps working when a handler throws', async () => {
    await startInformer();
    informer.on({ onAdd: () => { throw new Error('boom'); } });
    server.put(collection, configMap('a'));
    await eventually('the add despite the throwing handler', () => events.includes('add a'));
  });

  it('waitForSync resolves false when aborted before the first list succeeds', async () => {
    await server.close(); // nothing listens: lists fail and are retried
    informer = new Informer<ConfigMap>(client, { resource: resources.configMaps }, { log, backoff: { initialMs: 5, maxMs: 20 } });
    informer.start();
    const abort = new AbortController();
    const synced = informer.waitForSync(abort.signal);
    abort.abort();
    expect(await synced).toBe(false);
    expect(informer.hasSynced()).toBe(false);
    server = new FakeApiServer();
    await server.start(); // for afterEach
  });
});
