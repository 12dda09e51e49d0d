// For tests: a small in-memory Kubernetes API server on 127.0.0.1 that speaks the real wire protocol (list with
// pagination, watch streams with bookmarks, 410 Gone, optimistic concurrency, merge and apply patches), and lets
// a test break watches on purpose. Not a general API server: no validation, selectors or admission.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http } from '../net/builtins.js';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from './object.js';
import { StaticAccess } from './static-access.js';

type Obj = KubeObject & Record<string, unknown>;

interface Target {
  /** e.g. `v1/configmaps` or `coordination.k8s.io/v1/leases`. */
  collection: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

interface LoggedEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  collection: string;
  obj: Obj;
}

interface Watcher {
  target: Target;
  res: ServerResponse;
  bookmarks: boolean;
  /** A silent watcher stays connected but receives nothing, like a connection a middlebox dropped. */
  silent: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  body?: unknown;
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** How an expired resourceVersion is reported to a watch: an HTTP 410, or (like the watch cache) an ERROR event. */
  goneAs: 'http' | 'event' = 'event';
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly history: LoggedEvent[] = [];
  /** Watches from a resourceVersion below this get 410 Gone (etcd compacted it). */
  private oldestRv = 0;
  private rv = 1;
  private readonly watchers = new Set<Watcher>();
  private server: Server | undefined;

  async start(): Promise<number> {
    this.server = http.createServer((req, res) => {
      this.serve(req, res).catch((err: unknown) => send(res, 500, status(500, 'InternalError', String(err))));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.port;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  /** How a client reaches this server: plain HTTP, a fixed token. */
  access(): StaticAccess {
    return new StaticAccess({ server: `http://127.0.0.1:${this.port}`, namespace: undefined, tls: {}, token: { value: 'fake-token' } });
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }

  // ---- direct state manipulation for tests (writes are seen by watches like API writes) ----

  /** Creates or replaces an object; returns it as stored. `collection` as in Target. */
  put(collection: string, obj: Obj): Obj {
    const key = keyOf(obj);
    const existing = this.store(collection).get(key);
    return this.write(collection, { ...obj, metadata: { ...obj.metadata, uid: existing?.metadata?.uid ?? randomUUID() } }, existing ? 'MODIFIED' : 'ADDED');
  }

  remove(collection: string, namespace: string | undefined, name: string): void {
    const existing = this.store(collection).get(keyOf({ metadata: { namespace, name } }));
    if (existing) this.delete(collection, existing);
  }

  get(collection: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.store(collection).get(keyOf({ metadata: { namespace, name } }));
  }

  list(collection: string): Obj[] {
    return [...this.store(collection).values()];
  }

  /** Forgets the event history: watches from any earlier resourceVersion now get 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.oldestRv = this.rv;
  }

  /** Ends every open watch stream (as the server does at timeoutSeconds). */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /** Sends an ERROR event with code 410 on every open watch and ends them. */
  expireWatches(): void {
    for (const w of this.watchers) w.res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') })}\n`);
    this.watchers.clear();
  }

  /** Open watches go quiet without closing; watches opened later work normally. */
  silenceWatches(): void {
    for (const w of this.watchers) w.silent = true;
  }

  bookmark(): void {
    for (const w of this.watchers) {
      if (w.bookmarks && !w.silent) w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.rv) } } })}\n`);
    }
  }

  openWatches(): number {
    return [...this.watchers].filter((w) => !w.silent).length;
  }

  // ---- HTTP ----

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await readBody(req);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], body });
    const target = parsePath(url.pathname);
    if (!target) return send(res, 404, status(404, 'NotFound', `no route ${url.pathname}`));
    const store = this.store(target.collection);
    const key = keyOf({ metadata: { namespace: target.namespace, name: target.name } });
    const existing = target.name ? store.get(key) : undefined;
    switch (req.method) {
      case 'GET':
        if (!target.name) return url.searchParams.get('watch') ? this.watch(target, url.searchParams, res) : this.sendList(target, url.searchParams, res);
        return existing ? send(res, 200, existing) : send(res, 404, status(404, 'NotFound', `${target.name} not found`));
      case 'POST': {
        const obj = body as Obj;
        const named = { ...obj, metadata: { ...obj.metadata, namespace: target.namespace ?? obj.metadata?.namespace } };
        if (store.has(keyOf(named))) return send(res, 409, status(409, 'AlreadyExists', `${keyOf(named)} already exists`));
        return send(res, 201, this.write(target.collection, { ...named, metadata: { ...named.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } }, 'ADDED'));
      }
      case 'PUT': {
        const obj = body as Obj;
        if (!existing) return send(res, 404, status(404, 'NotFound', `${target.name} not found`));
        if (obj.metadata?.resourceVersion !== existing.metadata?.resourceVersion) return send(res, 409, status(409, 'Conflict', 'the object has been modified'));
        return send(res, 200, this.write(target.collection, { ...obj, metadata: { ...obj.metadata, uid: existing.metadata?.uid } }, 'MODIFIED'));
      }
      case 'PATCH': {
        const patch = body as Obj;
        const apply = req.headers['content-type'] === 'application/apply-patch+yaml';
        if (!existing && !apply) return send(res, 404, status(404, 'NotFound', `${target.name} not found`));
        const wantRv = patch.metadata?.resourceVersion;
        if (existing && wantRv && wantRv !== existing.metadata?.resourceVersion) return send(res, 409, status(409, 'Conflict', 'the object has been modified'));
        const base: Obj = existing ?? { metadata: { name: target.name, namespace: target.namespace, uid: randomUUID() } };
        const change = target.subresource === 'status' ? { status: patch.status } : patch;
        const merged = mergePatch(base, change) as Obj;
        return send(res, existing ? 200 : 201, this.write(target.collection, merged, existing ? 'MODIFIED' : 'ADDED'));
      }
      case 'DELETE':
        if (!existing) return send(res, 404, status(404, 'NotFound', `${target.name} not found`));
        this.delete(target.collection, existing);
        return send(res, 200, existing);
      default:
        return send(res, 405, status(405, 'MethodNotAllowed', String(req.method)));
    }
  }

  private sendList(target: Target, query: URLSearchParams, res: ServerResponse): void {
    const all = [...this.store(target.collection).values()]
      .filter((o) => !target.namespace || o.metadata?.namespace === target.namespace)
      .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    // A continue token carries the list's resourceVersion and the next offset.
    const [listRv, offset] = (query.get('continue') ?? `${this.rv}:0`).split(':').map(Number) as [number, number];
    const limit = Number(query.get('limit') ?? 0) || all.length;
    const items = all.slice(offset, offset + limit).map(({ apiVersion: _a, kind: _k, ...rest }) => rest); // lists omit type meta
    const more = offset + limit < all.length;
    send(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(listRv), ...(more ? { continue: `${listRv}:${offset + limit}` } : {}) }, items });
  }

  private watch(target: Target, query: URLSearchParams, res: ServerResponse): void {
    const from = Number(query.get('resourceVersion') ?? 0);
    if (from < this.oldestRv && this.goneAs === 'http') return send(res, 410, status(410, 'Expired', 'too old resource version'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    if (from < this.oldestRv) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') })}\n`);
      return;
    }
    const watcher: Watcher = { target, res, bookmarks: query.get('allowWatchBookmarks') === 'true', silent: false };
    for (const event of this.history) if (event.rv > from && matches(watcher, event)) emit(watcher, event);
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
  }

  private write(collection: string, obj: Obj, type: 'ADDED' | 'MODIFIED'): Obj {
    const stored: Obj = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    this.store(collection).set(keyOf(stored), stored);
    this.publish({ rv: this.rv, type, collection, obj: stored });
    return stored;
  }

  private delete(collection: string, obj: Obj): void {
    this.store(collection).delete(keyOf(obj));
    this.publish({ rv: ++this.rv, type: 'DELETED', collection, obj: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } } });
  }

  private publish(event: LoggedEvent): void {
    this.history.push(event);
    for (const w of this.watchers) if (!w.silent && matches(w, event)) emit(w, event);
  }

  private store(collection: string): Map<string, Obj> {
    let store = this.objects.get(collection);
    if (!store) this.objects.set(collection, (store = new Map()));
    return store;
  }
}

function matches(watcher: Watcher, event: LoggedEvent): boolean {
  return event.collection === watcher.target.collection && (!watcher.target.namespace || event.obj.metadata?.namespace === watcher.target.namespace);
}

function emit(watcher: Watcher, event: LoggedEvent): void {
  watcher.res.write(`${JSON.stringify({ type: event.type, object: event.obj })}\n`);
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/** `/api/v1/...` or `/apis/group/version/...`, then `[namespaces/ns/]plural[/name[/subresource]]`. */
function parsePath(path: string): Target | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let groupVersion: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) [groupVersion, rest] = [parts[1]!, parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 4) [groupVersion, rest] = [`${parts[1]}/${parts[2]}`, parts.slice(3)];
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
  const [plural, name, subresource] = rest;
  return plural ? { collection: `${groupVersion}/${plural}`, namespace, name, subresource } : undefined;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}
