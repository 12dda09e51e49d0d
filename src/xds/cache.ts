// The seam between making config and serving it (go-control-plane's cache): generators put encoded resources
// into named collections; the ADS server reads a proxy's view of them and is told which names changed. The server
// knows nothing about how resources are made, and SotW and delta streams read the same view.
import { deltaResourceBytes, sameResources, type XdsResource } from './resource.js';
import { controlPlaneField, DeltaResponseField, DiscoveryResponseField, fieldSize, stringField, writeFieldHeader } from './wire.js';

/** Names changed (added, updated or removed) per type URL. */
export type ChangeSet = ReadonlyMap<string, ReadonlySet<string>>;

/** Upserts and removals for one collection, per type URL. */
export interface CollectionUpdate {
  upsert?: Iterable<XdsResource>;
  remove?: Iterable<{ typeUrl: string; name: string }>;
}

/** How a response lists resources: SotW as their Any, delta each wrapped in a Resource (name, version, Any). */
export type ResponseKind = 'sotw' | 'delta';

/** What a response carries of a resource. */
function payloadOf(kind: ResponseKind, resource: XdsResource): Buffer {
  return kind === 'sotw' ? resource.any : deltaResourceBytes(resource);
}

/** The size of the resource as one of a response's `resources` fields. */
function resourceFieldSize(kind: ResponseKind, resource: XdsResource): number {
  return fieldSize(DiscoveryResponseField.resources, payloadOf(kind, resource).length);
}

/** Writes the resource as one of a response's `resources` fields at `offset`; returns the offset after it. */
function writeResourceField(out: Buffer, kind: ResponseKind, resource: XdsResource, offset: number): number {
  const payload = payloadOf(kind, resource);
  const at = writeFieldHeader(out, DiscoveryResponseField.resources, payload.length, offset);
  out.set(payload, at); // TypedArray#set: Buffer#copy's checks cost more than a small resource's bytes
  return at + payload.length;
}

/**
 * A collection's types with at least this many resources are encoded whole for responses that carry all of them (a
 * wildcard subscription's first: every Envoy sidecar's CDS and LDS), once for every view; smaller ones are not
 * worth keeping.
 */
const MIN_ENCODED_RUN = 64;

/**
 * The resources of one group of proxies that see the same config (e.g. every proxyless client), each type with
 * a version that moves whenever one of its resources does.
 */
export class ResourceCollection {
  private readonly byType = new Map<string, Map<string, XdsResource>>();
  private readonly versions = new Map<string, number>();
  private readonly listeners = new Set<(changes: ChangeSet) => void>();
  /** Per type and kind: every resource as a response's `resources` fields, in the map's order (see encodedRun). */
  private readonly runs = new Map<string, Partial<Record<ResponseKind, Buffer>>>();

  constructor(readonly key: string) {}

  /**
   * Every resource of the type as a response of `kind` lists them, in the order typeMap iterates them: made on
   * first use, kept until the type changes. Sidecars' views differ (each has its own inbound side), so a view's
   * memo cannot share their bodies; this shares the bulk of them, one copy instead of a thousand small ones.
   */
  encodedRun(kind: ResponseKind, typeUrl: string): Buffer {
    let runs = this.runs.get(typeUrl);
    if (!runs) this.runs.set(typeUrl, (runs = {}));
    let run = runs[kind];
    if (!run) {
      const resources = [...this.resources(typeUrl).values()];
      let size = 0;
      for (const r of resources) size += resourceFieldSize(kind, r);
      run = Buffer.allocUnsafeSlow(size); // long-lived: its own allocation, not a slice of the shared pool
      let offset = 0;
      for (const r of resources) offset = writeResourceField(run, kind, r, offset);
      runs[kind] = run;
    }
    return run;
  }

  get(typeUrl: string, name: string): XdsResource | undefined {
    return this.byType.get(typeUrl)?.get(name);
  }

  resources(typeUrl: string): ReadonlyMap<string, XdsResource> {
    return this.byType.get(typeUrl) ?? EMPTY;
  }

  /** The type's resources by name, made on first use: the same map for the collection's life, for views to hold. */
  typeMap(typeUrl: string): ReadonlyMap<string, XdsResource> {
    let map = this.byType.get(typeUrl);
    if (!map) this.byType.set(typeUrl, (map = new Map()));
    return map;
  }

  version(typeUrl: string): number {
    return this.versions.get(typeUrl) ?? 0;
  }

  /** Applies `update`; a resource whose content did not change is not a change. Returns what changed. */
  apply(update: CollectionUpdate): ChangeSet {
    const changes = new Map<string, Set<string>>();
    const changed = (typeUrl: string, name: string) => {
      let names = changes.get(typeUrl);
      if (!names) changes.set(typeUrl, (names = new Set()));
      names.add(name);
    };
    for (const resource of update.upsert ?? []) {
      let map = this.byType.get(resource.typeUrl);
      if (!map) this.byType.set(resource.typeUrl, (map = new Map()));
      const held = map.get(resource.name);
      if (held?.version === resource.version) {
        // Same bytes, nothing to send; but a spec change can give the same output, and status must see the new
        // generation as served: keep the newer sources.
        if (!sameSources(held, resource)) {
          map.set(resource.name, resource);
          this.runs.delete(resource.typeUrl); // the same bytes, but runs are matched by the resource objects
        }
        continue;
      }
      map.set(resource.name, resource);
      changed(resource.typeUrl, resource.name);
    }
    for (const { typeUrl, name } of update.remove ?? []) {
      if (this.byType.get(typeUrl)?.delete(name)) changed(typeUrl, name);
    }
    if (changes.size === 0) return changes;
    for (const typeUrl of changes.keys()) {
      this.versions.set(typeUrl, this.version(typeUrl) + 1);
      this.runs.delete(typeUrl);
    }
    for (const listener of this.listeners) listener(changes);
    return changes;
  }

  /** Makes the collection hold exactly `next`, of every type: what is not in it is removed. Returns what changed. */
  replaceAll(next: readonly XdsResource[]): ChangeSet {
    const keep = new Set(next.map((r) => `${r.typeUrl} ${r.name}`));
    const remove: Array<{ typeUrl: string; name: string }> = [];
    for (const [typeUrl, byName] of this.byType) {
      for (const name of byName.keys()) if (!keep.has(`${typeUrl} ${name}`)) remove.push({ typeUrl, name });
    }
    return this.apply({ upsert: next, remove });
  }

  onChange(listener: (changes: ChangeSet) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const EMPTY: ReadonlyMap<string, XdsResource> = new Map();

function sameSources(a: XdsResource, b: XdsResource): boolean {
  return a.sources.length === b.sources.length && a.sources.every((s, i) => a.sourceKeys[i] === b.sourceKeys[i] && s.generation === b.sources[i]!.generation);
}

/**
 * How long one turn of a fan-out may last. A turn's responses leave after it, and a later turn waits behind what the
 * event loop does meanwhile, the ACKs of the streams told before it among it: at 5000 proxyless clients, whose
 * fan-out spends 40-50 ms telling them, every stream had been told 50 ms after the PATCH in one turn, 100-120 in two,
 * 210-290 in three (in turns of 20 ms; docs/benchmarks.md, "A fan-out's last streams"). In turns of 50 ms (two at
 * most, see flush) it takes one; a larger fan-out (Envoy sidecars' larger responses, tens of thousands of clients)
 * still lets ACKs and new streams in.
 */
const FAN_OUT_SLICE_MS = 50;

/**
 * Response bodies a view keeps for reuse (and name lists it keeps resolved, per type): enough for the distinct sets
 * of a busy push, and of a connect storm, whose clients go through their types together, so every type's sets are
 * in use at once (at 256, 2000 clients watching 111 distinct lists of each of 4 types had 400-500 of their 2000
 * responses per type assembled anew; at 1024, each list's first).
 */
const MAX_MEMOIZED_BODIES = 1024;

/** What a stream reads: a proxy's config, composed from one or more collections. */
export interface ProxyView {
  /** Identifies the composition (equal keys, equal config): the debug endpoint shows it. */
  readonly key: string;
  get(typeUrl: string, name: string): XdsResource | undefined;
  /** Every resource of a type (for wildcard subscriptions), a new array in the view's order. */
  all(typeUrl: string): XdsResource[];
  version(typeUrl: string): string;
  /**
   * A SotW DiscoveryResponse for `resources` at the current version, with `nonce`. With `memoize`, the body (all
   * but the nonce) is kept for the next stream sending the same resources, which then copies it whole, or takes
   * the last message made from it as it is when its nonce is the same (streams count nonces alike, so the streams
   * of a connect storm send each type under one nonce): the returned buffer may be shared and must not be changed.
   */
  sotwResponse(typeUrl: string, resources: readonly XdsResource[], nonce: string, memoize: boolean): Buffer;
  /**
   * A DeltaDiscoveryResponse for `resources` and the `removed` names, memoized as sotwResponse is when nothing is
   * removed (the sidecars of a connect storm get the same whole set, and a push the same changed resources).
   */
  deltaResponse(typeUrl: string, resources: readonly XdsResource[], removed: readonly string[], nonce: string): Buffer;
  /**
   * A SotW request's names looked up. While other streams share the view the answer is kept by the list's key
   * (`names_key`: equal keys, equal lists) until the type changes: the replicas of a workload, and the clients of a
   * connect storm, send the same lists, and the answer's strings are the resources' own (hashed once), shared by
   * every stream holding the subscription.
   */
  resolve(typeUrl: string, requested: RequestedNames): ResolvedNames;
  /** Calls `listener` with the names that changed; returns the unsubscribe function. */
  onChange(listener: (changes: ChangeSet) => void): () => void;
}

/** A SotW request's names, read only as needed: DiscoveryRequest off the wire computes each when asked. */
export interface RequestedNames {
  /** The list's identity (absent for a request made in code: not kept then). */
  readonly names_key?: string;
  readonly resource_names: readonly string[];
}

/** A request's names and what the view holds of them (see ProxyView.resolve). Shared: callers do not change it. */
export interface ResolvedNames {
  /**
   * The list's key, when the view keeps this answer: one string for every stream sending the list, so a stream
   * may hold it to tell an ACK repeating its list (a stream of a view of its own holds no key: Envoy's EDS lists
   * run to thousands of names).
   */
  readonly key?: string;
  /** The names, `*` left out, each the resource's own string where the view holds one: what a subscription adopts. */
  readonly names: ReadonlySet<string>;
  /** The resources the view holds of them, in the request's order. */
  readonly existing: readonly XdsResource[];
  /** The names came ascending (clients sort them): distinct, and in the order a response lists them. */
  readonly ascending: boolean;
  /** The request named `*`. */
  readonly star: boolean;
}

/** Resolves `requested` against `view` (see ProxyView.resolve). */
export function resolveNames(view: Pick<ProxyView, 'get'>, typeUrl: string, requested: readonly string[], key?: string): ResolvedNames {
  const names = new Set<string>();
  const existing: XdsResource[] = [];
  let ascending = true;
  let star = false;
  let previous = '';
  for (const name of requested) {
    if (name === '*') {
      star = true;
      continue;
    }
    const resource = view.get(typeUrl, name);
    names.add(resource?.name ?? name);
    if (ascending && !(previous < name)) ascending = false;
    previous = name;
    if (resource) existing.push(resource);
  }
  return { key, names, existing, ascending, star };
}

/** What a push took to tell the streams: every view's fan-out from the first change until the last stream was told. */
export interface FanOutSummary {
  views: number;
  streams: number;
  /** Event-loop turns of the longest fan-out (streams told in a later turn wait behind other work). */
  turns: number;
  /** Time spent telling streams, over every turn. */
  busyMs: number;
  /** From the first fan-out's start until the last one ended. */
  ms: number;
}

export interface ResourceCacheOptions {
  /** ControlPlane.identifier in every response (shows in Envoy config dumps). */
  controlPlaneId?: string;
  /** Called with each push's fan-out once every stream has been told (the debug log). */
  onFanOut?(summary: FanOutSummary): void;
  /**
   * The longest a fan-out holds the event loop before ACKs and new streams get a turn (ms; default FAN_OUT_SLICE_MS).
   */
  fanOutSliceMs?: number;
  /** The clock fan-outs are timed by (ms; default performance.now): tests give streams a cost without spending it. */
  now?: () => number;
}

/** Every collection, and the shared views streams read them through. */
export class ResourceCache {
  private readonly collections = new Map<string, ResourceCollection>();
  private readonly views = new Map<string, SharedView>();
  private readonly fanOuts: FanOuts;

  constructor(private readonly options: ResourceCacheOptions = {}) {
    this.fanOuts = new FanOuts(options.now ?? (() => performance.now()), options.onFanOut);
  }

  /**
   * Calls `done` once every stream has been told of the changes made so far (at once when no fan-out is in
   * progress): the moment a push has been written to the proxies' streams, for the push latency metric, and
   * when the sync status may take its next slice.
   */
  afterFanOut(done: () => void): void {
    this.fanOuts.whenIdle(done);
  }

  collection(key: string): ResourceCollection {
    let c = this.collections.get(key);
    if (!c) this.collections.set(key, (c = new ResourceCollection(key)));
    return c;
  }

  /** Drops a collection (e.g. a disconnected proxy's own resources). */
  dropCollection(key: string): void {
    this.collections.delete(key);
  }

  collectionKeys(): string[] {
    return [...this.collections.keys()];
  }

  /**
   * The view over `keys` (earlier collections win a name clash). Views are shared by every stream with the same
   * keys and must be released when the stream ends.
   */
  acquireView(keys: readonly string[]): { view: ProxyView; release: () => void } {
    const key = keys.join('+');
    let view = this.views.get(key);
    if (!view) {
      view = new SharedView(key, keys.map((k) => this.collection(k)), this.options, this.fanOuts);
      this.views.set(key, view);
    }
    view.refs++;
    const shared = view;
    let released = false;
    return {
      view: shared,
      release: () => {
        if (released) return;
        released = true;
        if (--shared.refs === 0) {
          shared.close();
          this.views.delete(key);
        }
      },
    };
  }
}

interface MemoizedBody {
  typeUrl: string;
  resources: readonly XdsResource[];
  body: Buffer;
  /** The last whole message made with this body, and its nonce. */
  last: { nonce: string; message: Buffer };
}

/** The control plane's field number (version, resources, type URL and nonce have the same ones in both). */
const CONTROL_PLANE_FIELD: Record<ResponseKind, number> = { sotw: DiscoveryResponseField.controlPlane, delta: DeltaResponseField.controlPlane };

/**
 * The memo key of a response body: a hash of the type and of the resources' identities, in order. Cheaper than a
 * key naming them (a string of every name, built and hashed per response, for thousands of streams whose sets
 * differ); a clash is caught by comparing the entry's resources.
 */
function bodyKey(typeUrl: string, resources: readonly XdsResource[]): number {
  let hash = Math.imul(typeUrl.length, 0x9e3779b1) ^ resources.length;
  for (const r of resources) hash = Math.imul(hash ^ r.id, 0x01000193);
  return hash >>> 1; // a small integer: no heap number per key
}

class SharedView implements ProxyView {
  refs = 0;
  private readonly listeners = new Set<(changes: ChangeSet) => void>();
  /** Memoized response bodies per kind, by bodyKey (a hash: the entry's type and resources are compared on a hit). */
  private readonly bodies: Record<ResponseKind, Map<number, MemoizedBody>> = { sotw: new Map(), delta: new Map() };
  private readonly frames = new Map<string, { version: string; head: Buffer; tails: Partial<Record<ResponseKind, Buffer>> }>();
  private readonly maps = new Map<string, ReadonlyArray<ReadonlyMap<string, XdsResource>>>();
  /** Each type's version, until one of its collections changes (every response and every sync check asks). */
  private readonly versions = new Map<string, string>();
  /** Resolved request names per type, by the list's key, until the type changes (see resolve). */
  private readonly resolved = new Map<string, Map<string, ResolvedNames>>();
  private readonly unsubscribe: Array<() => void>;
  /** Changes from any of the collections not yet told to the streams (see changed). */
  private pending: Map<string, Set<string>> | undefined;

  constructor(
    readonly key: string,
    private readonly collections: ResourceCollection[],
    private readonly options: ResourceCacheOptions,
    private readonly fanOuts: FanOuts,
  ) {
    this.unsubscribe = collections.map((c) => c.onChange((changes) => this.changed(changes)));
  }

  get(typeUrl: string, name: string): XdsResource | undefined {
    for (const map of this.mapsOf(typeUrl)) {
      const r = map.get(name);
      if (r) return r;
    }
    return undefined;
  }

  /** Each collection's map of `typeUrl`, in order (looked up for every name a request names or a push sends). */
  private mapsOf(typeUrl: string): ReadonlyArray<ReadonlyMap<string, XdsResource>> {
    let maps = this.maps.get(typeUrl);
    if (!maps) this.maps.set(typeUrl, (maps = this.collections.map((c) => c.typeMap(typeUrl))));
    return maps;
  }

  resolve(typeUrl: string, requested: RequestedNames): ResolvedNames {
    // A view of its own (an Envoy sidecar's) resolves a list once per stream: nothing to share.
    const key = this.refs > 1 ? requested.names_key : undefined;
    if (key === undefined) return resolveNames(this, typeUrl, requested.resource_names);
    let byKey = this.resolved.get(typeUrl);
    if (!byKey) this.resolved.set(typeUrl, (byKey = new Map()));
    let resolved = byKey.get(key);
    if (!resolved) {
      // Bounded as the bodies are: a list only one stream sends would otherwise stay until its type changes.
      if (byKey.size >= MAX_MEMOIZED_BODIES) byKey.delete(byKey.keys().next().value!);
      byKey.set(key, (resolved = resolveNames(this, typeUrl, requested.resource_names, key)));
    }
    return resolved;
  }

  all(typeUrl: string): XdsResource[] {
    const maps = this.mapsOf(typeUrl);
    const out: XdsResource[] = [];
    let earlier = false; // whether a collection before this one holds any of the type
    for (let i = 0; i < maps.length; i++) {
      const map = maps[i]!;
      if (map.size === 0) continue;
      // A name an earlier collection holds is that one's, as in get (no set of every name: most types live in one).
      if (!earlier) for (const r of map.values()) out.push(r);
      else for (const r of map.values()) if (!heldBefore(maps, i, r.name)) out.push(r);
      earlier = true;
    }
    return out;
  }

  version(typeUrl: string): string {
    let version = this.versions.get(typeUrl);
    if (version === undefined) this.versions.set(typeUrl, (version = this.collections.map((c) => c.version(typeUrl)).join('.')));
    return version;
  }

  sotwResponse(typeUrl: string, resources: readonly XdsResource[], nonce: string, memoize: boolean): Buffer {
    return this.response('sotw', typeUrl, resources, NO_NAMES, nonce, memoize);
  }

  deltaResponse(typeUrl: string, resources: readonly XdsResource[], removed: readonly string[], nonce: string): Buffer {
    return this.response('delta', typeUrl, resources, removed, nonce, removed.length === 0);
  }

  /**
   * The body (version, resources, type URL, control plane), then the removed names (delta only), then the nonce.
   * With `memoize`, the body is kept for the next stream sending the same resources (see ProxyView.sotwResponse)
   * while other streams share the view: an Envoy sidecar's view is its own (its inbound side), and keeping its
   * megabytes of CDS and EDS for nobody doubled its memory.
   */
  private response(kind: ResponseKind, typeUrl: string, resources: readonly XdsResource[], removed: readonly string[], nonce: string, memoize: boolean): Buffer {
    const nonceSize = Buffer.byteLength(nonce);
    let afterBody = fieldSize(DeltaResponseField.nonce, nonceSize);
    for (const name of removed) afterBody += fieldSize(DeltaResponseField.removedResources, Buffer.byteLength(name));
    const bodies = this.bodies[kind];
    const key = memoize && this.refs > 1 ? bodyKey(typeUrl, resources) : undefined;
    const memo = key === undefined ? undefined : bodies.get(key);
    let out: Buffer;
    let bodySize: number;
    let reused: MemoizedBody | undefined;
    if (memo && memo.typeUrl === typeUrl && sameResources(memo.resources, resources)) {
      reused = memo;
      bodies.delete(key!); // most recently used goes last, so the oldest unused one is dropped first
      bodies.set(key!, memo);
      if (memo.last.nonce === nonce) return memo.last.message;
      bodySize = memo.body.length;
      out = Buffer.allocUnsafe(bodySize + afterBody);
      memo.body.copy(out, 0);
    } else {
      // One allocation, each resource's bytes copied once, the nonce written after them: the memo keeps a view of
      // the body part of this very buffer.
      const { head, tail } = this.frame(kind, typeUrl);
      const pieces = this.pieces(kind, typeUrl, resources);
      bodySize = head.length + tail.length;
      for (const piece of pieces) bodySize += isRun(piece) ? piece.length : resourceFieldSize(kind, piece);
      out = Buffer.allocUnsafe(bodySize + afterBody);
      let offset = head.copy(out, 0);
      for (const piece of pieces) {
        if (!isRun(piece)) {
          offset = writeResourceField(out, kind, piece, offset);
          continue;
        }
        out.set(piece, offset);
        offset += piece.length;
      }
      tail.copy(out, offset);
      if (key !== undefined) {
        // Bounded: a resource set only one stream asks for would otherwise sit here until its type changes.
        if (bodies.size >= MAX_MEMOIZED_BODIES) bodies.delete(bodies.keys().next().value!);
        bodies.set(key, { typeUrl, resources, body: out.subarray(0, bodySize), last: { nonce, message: out } });
      }
    }
    let offset = bodySize;
    for (const name of removed) {
      const at = writeFieldHeader(out, DeltaResponseField.removedResources, Buffer.byteLength(name), offset);
      offset = at + out.write(name, at);
    }
    out.write(nonce, writeFieldHeader(out, DeltaResponseField.nonce, nonceSize, offset));
    if (reused) reused.last = { nonce, message: out };
    return out;
  }

  /**
   * `resources` as they go into a response: where all of a large collection's resources of the type come in its
   * order (a wildcard subscription's response), that collection's encoded run; the others one by one.
   */
  private pieces(kind: ResponseKind, typeUrl: string, resources: readonly XdsResource[]): ReadonlyArray<Buffer | XdsResource> {
    const maps = this.mapsOf(typeUrl);
    const firsts = maps.map((m) => (m.size >= MIN_ENCODED_RUN ? m.values().next().value : undefined));
    if (firsts.every((f) => f === undefined)) return resources;
    const out: Array<Buffer | XdsResource> = [];
    for (let i = 0; i < resources.length; ) {
      const r = resources[i]!;
      const c = firsts.indexOf(r);
      if (c >= 0 && inOrderAt(maps[c]!, resources, i)) {
        out.push(this.collections[c]!.encodedRun(kind, typeUrl));
        i += maps[c]!.size;
      } else {
        out.push(r);
        i++;
      }
    }
    return out;
  }

  /** The fields around a type's resources: the version before them, the type URL and control plane after. */
  private frame(kind: ResponseKind, typeUrl: string): { head: Buffer; tail: Buffer } {
    const version = this.version(typeUrl);
    let frame = this.frames.get(typeUrl);
    if (frame?.version !== version) this.frames.set(typeUrl, (frame = { version, head: stringField(DiscoveryResponseField.versionInfo, version), tails: {} }));
    const tail = (frame.tails[kind] ??= Buffer.concat([
      stringField(DiscoveryResponseField.typeUrl, typeUrl),
      this.options.controlPlaneId ? controlPlaneField(CONTROL_PLANE_FIELD[kind], this.options.controlPlaneId) : Buffer.alloc(0),
    ]));
    return { head: frame.head, tail };
  }

  onChange(listener: (changes: ChangeSet) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    this.listeners.clear();
    for (const bodies of Object.values(this.bodies)) bodies.clear();
  }

  /**
   * Forgets bodies of old versions at once; tells the streams once the current task is done, with the changes of
   * every collection merged: an update that adds a cluster to one collection and a route to it in another is one
   * push, in make-before-break order (src/xds/server/stream.ts), not the route first.
   */
  private changed(changes: ChangeSet): void {
    for (const typeUrl of changes.keys()) {
      this.versions.delete(typeUrl);
      this.resolved.delete(typeUrl);
    }
    for (const bodies of Object.values(this.bodies)) for (const [key, memo] of bodies) if (changes.has(memo.typeUrl)) bodies.delete(key);
    if (!this.pending) {
      this.pending = new Map();
      this.fanOuts.begin();
      queueMicrotask(() => this.flush());
    }
    for (const [typeUrl, names] of changes) {
      let merged = this.pending.get(typeUrl);
      if (!merged) this.pending.set(typeUrl, (merged = new Set()));
      for (const name of names) merged.add(name);
    }
  }

  /**
   * Tells the streams what changed, as many per event-loop turn as fit in a slice of time. A turn past its slice
   * whose remaining streams would take less than another slice, at its pace so far, tells them too: the streams of a
   * later turn wait behind the ACKs of every stream told before (2000 proxyless clients take 14-22 ms; when a 20 ms
   * slice left the last hundred to a second turn they heard of the push 50-60 ms after the rest, docs/benchmarks.md
   * "A fan-out's last streams"). A turn so lasts at most two slices.
   */
  private flush(): void {
    const changes: ChangeSet = this.pending ?? new Map();
    this.pending = undefined;
    const listeners = [...this.listeners];
    const sliceMs = this.options.fanOutSliceMs ?? FAN_OUT_SLICE_MS;
    const clock = this.fanOuts.now;
    let turns = 0;
    let busyMs = 0;
    const notify = (from: number): void => {
      const started = clock();
      turns++;
      let deadline = started + sliceMs;
      let extended = false;
      let next = from;
      while (next < listeners.length) {
        const listener = listeners[next++]!;
        // A stream that ended meanwhile has unsubscribed: skip it.
        if (this.listeners.has(listener)) listener(changes);
        // The clock is read every few streams only: a proxyless client's push takes some 10 µs.
        if (next % 16 !== 0) continue;
        const now = clock();
        if (now <= deadline) continue;
        const restMs = ((now - started) / (next - from)) * (listeners.length - next);
        if (extended || restMs > sliceMs) break;
        extended = true;
        deadline = now + sliceMs;
      }
      busyMs += clock() - started;
      if (next < listeners.length) setImmediate(() => notify(next));
      else this.fanOuts.end(listeners.length, turns, busyMs);
    };
    notify(0);
  }
}

const NO_NAMES: readonly string[] = [];

/** An encoded run among a response's pieces (the rest are resources). */
function isRun(piece: Buffer | XdsResource): piece is Buffer {
  return piece instanceof Uint8Array;
}

/** Whether `resources` from index `at` on start with every resource of `map`, in its order. */
function inOrderAt(map: ReadonlyMap<string, XdsResource>, resources: readonly XdsResource[], at: number): boolean {
  if (at + map.size > resources.length) return false;
  let i = at;
  for (const r of map.values()) if (resources[i++] !== r) return false;
  return true;
}

/** Whether a collection before the `i`th holds `name` (the maps of one type, in the view's order). */
function heldBefore(maps: ReadonlyArray<ReadonlyMap<string, XdsResource>>, i: number, name: string): boolean {
  for (let j = 0; j < i; j++) if (maps[j]!.has(name)) return true;
  return false;
}

/** Fan-outs still telling streams (over several event-loop turns), and who waits for them all to finish. */
class FanOuts {
  private active = 0;
  private waiters: Array<() => void> = [];
  /** The fan-outs overlapping since the cache was last idle, for onFanOut. */
  private burst: FanOutSummary | undefined;
  private burstStarted = 0;

  constructor(
    /** The clock fan-outs are timed by (ResourceCacheOptions.now). */
    readonly now: () => number,
    private readonly onFanOut?: (summary: FanOutSummary) => void,
  ) {}

  begin(): void {
    if (this.active++ === 0 && this.onFanOut) {
      this.burst = { views: 0, streams: 0, turns: 0, busyMs: 0, ms: 0 };
      this.burstStarted = this.now();
    }
  }

  /** One view's fan-out is over: it told `streams` in `turns` turns, busy for `busyMs`. */
  end(streams: number, turns: number, busyMs: number): void {
    const burst = this.burst;
    if (burst) {
      burst.views++;
      burst.streams += streams;
      burst.turns = Math.max(burst.turns, turns);
      burst.busyMs += busyMs;
    }
    if (--this.active > 0) return;
    if (burst) {
      this.burst = undefined;
      burst.ms = this.now() - this.burstStarted;
      this.onFanOut!(burst);
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  whenIdle(done: () => void): void {
    if (this.active === 0) done();
    else this.waiters.push(done);
  }
}

/** The view with `also` released after it. */
export function withRelease(acquired: { view: ProxyView; release: () => void }, also: () => void): { view: ProxyView; release: () => void } {
  let released = false;
  return {
    view: acquired.view,
    release: () => {
      if (released) return;
      released = true;
      acquired.release();
      also();
    },
  };
}
