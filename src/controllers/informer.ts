// Informer: keeps a local cache of one resource in step with the API server (list, then watch), and tells
// handlers what changed. The same protocol as client-go's reflector, in one loop.
import type { Logger } from 'pino';
import { Backoff, sleep } from './backoff.js';
import { Store, type CacheEvent, type IndexFunc } from './cache.js';
import { defaultLogger } from './logger.js';
import { keyOf, objectKey, withSpecOf, type KubeObject } from './object.js';
import { apiVersionOf, resourcePath, type ResourceType } from './resource.js';
import { ApiError, isGone, type RestClient, type Status } from './rest-client.js';

export interface InformerSpec {
  resource: ResourceType;
  /** Watch one namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Keeps only what the cache's readers need of each object (client-go's SetTransform): thousands of Pods cost a
   * few hundred bytes each instead of kilobytes. `name` tells informers with different transforms apart.
   */
  transform?: { name: string; apply(obj: KubeObject): KubeObject };
}

export interface InformerOptions {
  log?: Logger;
  /** Objects per list page. */
  pageSize?: number;
  /** Each watch asks the server to end it after a random time in [min, 2 * min) seconds, like client-go. */
  minWatchTimeoutSeconds?: number;
  /**
   * A watch that delivers nothing (no event, no bookmark) for this long is presumed dead (a silently dropped
   * connection) and restarted. The API server sends a bookmark about once a minute, so the default of three
   * minutes does not cut off healthy but quiet watches.
   */
  inactivityTimeoutMs?: number;
  /** Delay between watch restarts and list retries. */
  backoff?: { initialMs: number; maxMs: number };
}

/** Handlers receive the cached objects themselves: treat them as read-only. */
export interface InformerHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  /** `obj` is the final state if the watch saw the deletion, else the last state the cache held. */
  onDelete?(obj: T): void;
}

interface ObjectList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & Status;
}

class WatchInactiveError extends Error {}

export class Informer<T extends KubeObject> {
  readonly resource: ResourceType;
  private readonly store = new Store<T>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly log: Logger;
  private readonly pageSize: number;
  private readonly minWatchTimeoutSeconds: number;
  private readonly inactivityTimeoutMs: number;
  private readonly backoff: Backoff;
  /** The last resourceVersion seen (list, event or bookmark): a restarted watch resumes from here. */
  private resourceVersion = '';
  /** True once the first list is in the cache; stays true across relists. */
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private running: { abort: AbortController; loop: Promise<void> } | undefined;

  constructor(
    private readonly client: RestClient,
    readonly spec: InformerSpec,
    options: InformerOptions = {},
  ) {
    this.resource = spec.resource;
    this.log = (options.log ?? defaultLogger()).child({ informer: describe(spec) });
    this.pageSize = options.pageSize ?? 500;
    this.minWatchTimeoutSeconds = options.minWatchTimeoutSeconds ?? 300;
    this.inactivityTimeoutMs = options.inactivityTimeoutMs ?? 180_000;
    this.backoff = new Backoff({ initialMs: 800, maxMs: 30_000, ...options.backoff });
  }

  start(): void {
    if (this.running) return;
    const abort = new AbortController();
    this.running = { abort, loop: this.run(abort.signal) };
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    running?.abort.abort();
    await running?.loop;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, or false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }

  /** The last resourceVersion the informer has seen. */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  /** One object from the cache; use '' as the namespace of cluster-scoped objects. */
  get(namespace: string, name: string): T | undefined {
    return this.store.get(keyOf({ namespace, name }));
  }

  list(namespace?: string): T[] {
    return this.store.list(namespace);
  }

  addIndex(name: string, indexFunc: IndexFunc<T>): void {
    this.store.addIndex(name, indexFunc);
  }

  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }

  /** The values a cached object is indexed under in index `name`. */
  indexValues(name: string, obj: T): readonly string[] {
    return this.store.indexValues(name, objectKey(obj));
  }

  /**
   * Subscribes to changes; returns the unsubscribe function. Like client-go, a handler added after objects are
   * cached first receives an add for each of them, so every handler sees the full state.
   */
  on(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    for (const obj of this.store.list()) this.call(handler, { type: 'add', obj });
    return () => this.handlers.delete(handler);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let mustList = true;
    while (!signal.aborted) {
      try {
        if (mustList) {
          await this.listAndReplace(signal);
          mustList = false;
        }
        await this.watch(signal);
        this.log.debug({ resourceVersion: this.resourceVersion }, 'watch ended; restarting');
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err) && !mustList) {
          // Our resourceVersion fell out of etcd's history: only a fresh list can tell what we missed.
          this.log.info({ resourceVersion: this.resourceVersion }, 'watch expired (410 Gone); relisting');
          mustList = true;
          continue;
        }
        this.log.warn({ err: String(err) }, mustList ? 'list failed; retrying' : 'watch failed; restarting');
      }
      await sleep(this.backoff.next(), signal);
    }
  }

  /** Lists every page, replaces the cache with the result and emits the difference. */
  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    do {
      // No resourceVersion: a consistent read, so the list is never older than what the cache already holds.
      // A page that takes longer than the inactivity timeout is as dead as a silent watch.
      const page = await this.client.json<ObjectList<T>>('GET', this.path(), {
        query: { ...this.selectors(), limit: this.pageSize, continue: continueToken },
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.inactivityTimeoutMs)]),
      });
      for (const item of page.items ?? []) items.push(this.withTypeMeta(item));
      resourceVersion = page.metadata?.resourceVersion ?? '';
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    const events = this.store.replace(items);
    this.resourceVersion = resourceVersion;
    this.log.debug({ objects: items.length, changes: events.length, resourceVersion }, 'listed');
    for (const event of events) this.emit(event);
    this.markSynced();
  }

  /** One watch request, from the last seen resourceVersion until the stream ends or fails. */
  private async watch(parent: AbortSignal): Promise<void> {
    const abort = new AbortController();
    const onParentAbort = (): void => abort.abort(parent.reason);
    parent.addEventListener('abort', onParentAbort, { once: true });
    let inactivity: NodeJS.Timeout | undefined;
    const resetInactivity = (): void => {
      clearTimeout(inactivity);
      inactivity = setTimeout(() => abort.abort(new WatchInactiveError(`no watch event for ${this.inactivityTimeoutMs} ms`)), this.inactivityTimeoutMs);
    };
    const timeoutSeconds = Math.floor(this.minWatchTimeoutSeconds * (1 + Math.random()));
    try {
      resetInactivity();
      const response = await this.client.request('GET', this.path(), {
        query: { ...this.selectors(), watch: true, resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        signal: abort.signal,
      });
      if (!response.body) return;
      for await (const line of readLines(response.body)) {
        resetInactivity();
        this.handle(JSON.parse(line) as WatchEvent);
        this.backoff.reset(); // the watch works: the next restart need not wait long
      }
    } catch (err) {
      // Report why we aborted (e.g. inactivity) rather than the fetch's generic AbortError.
      throw abort.signal.aborted && !parent.aborted ? abort.signal.reason : err;
    } finally {
      clearTimeout(inactivity);
      parent.removeEventListener('abort', onParentAbort);
      abort.abort(); // releases the connection if the stream is still open
    }
  }

  private handle(event: WatchEvent): void {
    if (event.type === 'ERROR') throw ApiError.fromStatus(event.object); // code 410 → relist (see run)
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const obj = this.withTypeMeta(event.object as T);
    if (event.type === 'DELETED') {
      if (this.store.delete(objectKey(obj))) this.emit({ type: 'delete', obj });
      return;
    }
    const old = this.store.set(obj);
    this.emit(old ? { type: 'update', old, obj } : { type: 'add', obj });
  }

  private emit(event: CacheEvent<T>): void {
    for (const handler of this.handlers) this.call(handler, event);
  }

  /** A throwing handler is logged and skipped: it must not stop the informer or the other handlers. */
  private call(handler: InformerHandler<T>, event: CacheEvent<T>): void {
    try {
      if (event.type === 'add') handler.onAdd?.(event.obj);
      else if (event.type === 'update') handler.onUpdate?.(event.old, event.obj);
      else handler.onDelete?.(event.obj);
    } catch (err) {
      this.log.error({ err, event: event.type, key: objectKey(event.obj) }, 'informer handler threw');
    }
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * List items carry no apiVersion/kind; watch events do. Fill them in so both look the same. An unchanged spec
   * stays the cached object's (withSpecOf), before the transform, which may share it further.
   */
  private withTypeMeta(obj: T): T {
    const typed = withSpecOf(this.store.get(objectKey(obj)), { ...obj, apiVersion: apiVersionOf(this.resource), kind: this.resource.kind });
    return this.spec.transform ? (this.spec.transform.apply(typed) as T) : typed;
  }

  private path(): string {
    return resourcePath(this.resource, { namespace: this.spec.namespace });
  }

  private selectors(): { labelSelector?: string; fieldSelector?: string } {
    return { labelSelector: this.spec.labelSelector, fieldSelector: this.spec.fieldSelector };
  }
}

/** Splits a stream of newline-delimited JSON into lines (chunks may end mid-line). */
async function* readLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield line;
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest) yield rest;
}

/** A stable name for an informer: used in logs and as the manager's sharing key. */
export function describe(spec: InformerSpec): string {
  const { resource } = spec;
  const parts = [`${resource.plural}.${apiVersionOf(resource)}`];
  if (spec.namespace) parts.push(`ns=${spec.namespace}`);
  if (spec.labelSelector) parts.push(`labels=${spec.labelSelector}`);
  if (spec.fieldSelector) parts.push(`fields=${spec.fieldSelector}`);
  if (spec.transform) parts.push(`transform=${spec.transform.name}`);
  return parts.join(' ');
}
