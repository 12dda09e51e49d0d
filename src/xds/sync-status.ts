// Sync state of each mesh resource, from what this replica serves and what its proxies answered: is the
// resource's current generation in the served config, how many proxies should have it and how many ACKed it,
// and which proxies rejected config it produced (with their words). Every replica computes its own proxies' part
// (published for the others: mesh-sync/); the leader adds the other live replicas' parts (mergeCounts), and its
// reconcilers write the sum into status
// (Programmed, status.proxies, status.synced); a resource whose summary changed is re-enqueued, at most once per
// interval, which is also what rate-limits the status writes (count-only changes further: a bounded number per
// interval).
import type { ConditionStatus, InformerHandler, ResourceType } from '../controllers/index.js';
import { servedGenerationMessage } from '../mesh/served.js';
import type { ProgrammedChange, ProgrammedSource, ServedGeneration, StatusDetails, StatusTarget } from '../mesh/state/index.js';
import type { ProxyView, ResourceCache } from './cache.js';
import { mergeCounts } from './mesh-sync/summary.js';
import { TypeUrl } from './protos.js';
import { sourceKey, type XdsResource } from './resource.js';
import type { ConnectedProxy } from './server/stream.js';
import type { TypeState } from './server/type-state.js';

/** The longest a sync computation holds the event loop at once (ms). */
const SLICE_MS = 10;

/**
 * The longest proxy counts wait to settle before status gets them anyway (ms). While proxies connect (a storm
 * after a restart, a rollout), every computation moves the counts: writing each step only loads the API server,
 * and the proxies' connections with it, for numbers the next second makes stale.
 */
const MAX_COUNT_HOLD_MS = 10_000;

/**
 * Proxy moves (connects, ACKs) within one interval from which computations wait for proxies to stand still: a
 * storm (thousands of proxies reconnecting after a restart, a large rollout), not a few proxies coming and going,
 * whose counts should show within a second.
 */
const STORM_MOVES = 100;

/**
 * A computation that took longer (ms) is waited out while proxies move at all: hundreds of Envoy sidecars, each
 * holding thousands of resources, make each one cost a tenth of a second for counts the next second makes stale.
 */
const COSTLY_COMPUTE_MS = 10;

/**
 * While proxies move, a computation waits at most MAX_COUNT_HOLD_MS, or this many times as long as the last one
 * took: a second-long computation over 500 sidecars forced in the middle of their 15-second storm was a tenth of
 * the CPU the storm waited for; this keeps such forced ones under 5% of it.
 */
const HOLD_PER_COMPUTE_MS = 20;

/** A response unanswered for longer than this (ms) is a stuck proxy's, not one of a storm still settling. */
const AWAITED_ANSWER_MS = 10_000;

/** Kinds whose content the xDS generators program. */
const PROGRAMMED_KINDS = new Set(['ServiceEntry', 'WorkloadEntry', 'VirtualService', 'DestinationRule']);

export interface ResourceSync {
  /** The generation of the object that the served config carries (the highest seen). */
  servedGeneration: number;
  expected: number;
  acked: number;
  rejections: Array<{ proxy: string; error: string }>;
  /**
   * When the last proxy holding it current answered (epoch ms; local proxies only, not published): when `acked`
   * reached `expected`, that ACK completed it.
   */
  lastAckAt?: number;
}

export interface SyncInputs {
  cache: ResourceCache;
  proxies(): Iterable<ConnectedProxy>;
  /** The objects of a kind (namespace, name): each is told when the first summary replaces "pending". */
  objects?(kind: string): Iterable<{ metadata: { namespace?: string; name?: string } }>;
  /** Only the leader writes status: other replicas compute their own part (to publish it) but notify no one. */
  isLeader?(): boolean;
  /** The other live replicas' parts (mesh-sync/): added to this replica's own into the mesh-wide state. */
  remote?(): Iterable<ReadonlyMap<string, ResourceSync>>;
  /** False until the first config is served: before that every object would look "not in config". */
  serving?(): boolean;
}

/** Per object (by source key), in first-seen order: does the proxy hold all of it, current; a rejection to report. */
interface ObjectStates {
  keys: string[];
  held: boolean[];
  rejected: Array<string | undefined>;
}

/**
 * What one proxy's state of one type says about each object behind it. `states` of a clean type (every resource
 * it wants held at the served version, nothing rejected), or of one that holds none of them yet and rejects nothing
 * (a proxy of a connect storm waiting for its first response), is shared by every proxy wanting the same resources.
 */
interface TypeSync {
  states: ObjectStates;
  /** `states` is shared (SharedStates.ofType): it holds no rejection. */
  shared: boolean;
  revision: number;
  version: string;
  /** The type's last ACK (epoch ms, 0 before any). */
  ackedAt: number;
}

/**
 * The merge of a proxy's shared type states, as SharedStates.ofProxy keeps it: `base`, the merge of all parts but
 * the last (shared with every proxy holding those parts), and `last`, merged onto it only when counted (undefined
 * for a proxy of one part). Every Envoy sidecar has listeners of its own: a merge copied whole per sidecar was 500
 * copies of thousands of entries after each push, counted entry by entry.
 */
interface SharedMerge {
  base: ObjectStates;
  last: ObjectStates | undefined;
}

/** One proxy, all types merged: `shared` among proxies whose types share their states, else its own `states`. */
interface ProxySync {
  states: ObjectStates | undefined;
  shared: SharedMerge | undefined;
  parts: TypeSync[];
  /** The proxy's last ACK of any type (epoch ms, 0 before any). */
  ackedAt: number;
}

/** Builds ObjectStates from what `fill` adds: an object is held only if all it was added with is; the last rejection stays. */
function collectStates(fill: (add: (key: string, held: boolean, rejected: string | undefined) => void) => void): ObjectStates {
  const index = new Map<string, number>();
  const states: ObjectStates = { keys: [], held: [], rejected: [] };
  fill((key, held, rejected) => {
    let i = index.get(key);
    if (i === undefined) {
      index.set(key, (i = states.keys.length));
      states.keys.push(key);
      states.held.push(true);
      states.rejected.push(undefined);
    }
    states.held[i] &&= held;
    if (rejected !== undefined) states.rejected[i] = rejected;
  });
  return states;
}

/** Entries kept while computations use them: what one computation did not use is dropped at the end of the next. */
class UsedLately<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();

  /** The entry, kept for this computation too. */
  get(key: string): V | undefined {
    const value = this.current.get(key) ?? this.previous.get(key);
    if (value !== undefined) this.current.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.current.set(key, value);
  }

  /** A computation ended. */
  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

/**
 * The states of clean proxies, shared: per set of wanted resources (a type), per set of types (a proxy). Hundreds
 * of sidecars of one namespace want the same thousands of resources; once they have ACKed a push they all say the
 * same, and building it once instead of per proxy is what keeps the sync status cheap after every push. So do
 * those still waiting for a type's first response in a connect storm (none of it held), which a computation forced
 * in the middle of a long storm meets by the hundred.
 */
class SharedStates {
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly types = new UsedLately<{ resources: Set<XdsResource>; states: ObjectStates }>();
  private readonly proxies = new UsedLately<SharedMerge>();
  /** Merges of all but the last of some proxies' parts (see ofProxy), and the positions of merge bases. */
  private readonly prefixes = new UsedLately<ObjectStates>();
  private readonly indexes = new WeakMap<ObjectStates, ReadonlyMap<string, number>>();
  /** How many proxies' merges each part has been in: the ones many hold are merged first, and that merge kept. */
  private readonly uses = new WeakMap<ObjectStates, number>();

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  /**
   * The states of a type wanting exactly `wanted` and holding all of it (`held`) or none of it, nothing rejected;
   * undefined when a fingerprint clash makes it ambiguous.
   */
  ofType(wanted: readonly XdsResource[], held: boolean): ObjectStates | undefined {
    let sum = 0;
    let mixed = 0;
    for (const r of wanted) {
      const id = r.id;
      sum += id;
      mixed ^= Math.imul(id, 0x9e3779b1) ^ (id >>> 7);
    }
    const fingerprint = `${held ? 'held' : 'none'}:${wanted.length}:${sum}:${mixed >>> 0}`;
    const shared = this.types.get(fingerprint);
    if (shared) return shared.resources.size === wanted.length && wanted.every((r) => shared.resources.has(r)) ? shared.states : undefined;
    const states = collectStates((add) => {
      for (const r of wanted) for (const key of r.sourceKeys) add(key, held, undefined);
    });
    this.types.set(fingerprint, { resources: new Set(wanted), states });
    return states;
  }

  /**
   * The merge of a proxy whose types hold `parts` (each shared). Every sidecar has listeners of its own, so few
   * share the whole: the parts held by the most proxies are merged first (the clusters and endpoints every sidecar
   * wants, then its own listeners), and that merge of all but the last part is kept for the other proxies that
   * share it; the last is merged in as it is counted (SyncComputation.countLast).
   */
  ofProxy(parts: readonly ObjectStates[]): SharedMerge {
    for (const p of parts) this.uses.set(p, (this.uses.get(p) ?? 0) + 1);
    const key = parts.map((p) => this.id(p)).join(',');
    let merge = this.proxies.get(key);
    if (merge) return merge;
    // The parts most proxies hold first (size breaks ties: a computation's first proxies have counted little yet).
    const ordered = [...parts].sort((a, b) => this.uses.get(b)! - this.uses.get(a)! || b.keys.length - a.keys.length);
    let base = ordered[0] ?? NO_STATES;
    let prefix = ordered.length > 0 ? String(this.id(base)) : '';
    for (let i = 1; i < ordered.length - 1; i++) {
      prefix += `,${this.id(ordered[i]!)}`;
      let next = this.prefixes.get(prefix);
      if (!next) this.prefixes.set(prefix, (next = mergeOnto(base, this.indexOf(base), ordered[i]!)));
      base = next;
    }
    merge = { base, last: ordered.length > 1 ? ordered[ordered.length - 1] : undefined };
    this.proxies.set(key, merge);
    return merge;
  }

  /** Each object's position in `states` (made once per shared states). */
  indexOf(states: ObjectStates): ReadonlyMap<string, number> {
    let index = this.indexes.get(states);
    if (!index) this.indexes.set(states, (index = new Map(states.keys.map((k, i) => [k, i]))));
    return index;
  }

  /** A computation ended. */
  rotate(): void {
    this.prefixes.rotate();
    this.types.rotate();
    this.proxies.rotate();
  }
}

/**
 * What the last computation concluded, reused by the next one where nothing it depends on moved: per proxy and
 * type (its TypeState's revision and the served version of the type), and the served generations (the versions
 * of every collection). With thousands of proxies connected, most of them did nothing since the last second.
 */
export class SyncMemo {
  readonly types = new WeakMap<TypeState, TypeSync>();
  /** Per proxy, its types merged (kept while every part is the same object). */
  readonly proxies = new WeakMap<ConnectedProxy, ProxySync>();
  readonly shared = new SharedStates();
  served: { signature: string; generations: Map<string, number> } | undefined;
}

/**
 * Computes every resource's sync state now. Pure over its inputs (tests call it directly); `memo` carries what
 * can be reused from one call to the next.
 */
export function computeSync(inputs: SyncInputs, memo = new SyncMemo()): Map<string, ResourceSync> {
  return new SyncComputation(inputs, memo).step()!;
}

/**
 * computeSync in steps, so that a computation over thousands of proxies (hundreds of Envoy sidecars hold thousands
 * of resources each) does not hold the event loop, and the pushes and ACKs waiting behind it, for its whole length.
 */
export class SyncComputation {
  private readonly out = new Map<string, ResourceSync>();
  private readonly proxies: ConnectedProxy[];
  private next = 0;
  /**
   * Proxies with shared states by their merge's base, then its last part: how many, and the latest ACK among them
   * (added once, at the end: a base once for all its proxies, each last part onto it).
   */
  private readonly grouped = new Map<ObjectStates, Map<ObjectStates | undefined, { proxies: number; ackedAt: number }>>();
  private done = false;
  /** Proxies whose state moved since the computation before (connected, asked, answered): none means settled. */
  moved = 0;

  constructor(
    inputs: SyncInputs,
    private readonly memo: SyncMemo,
  ) {
    for (const [key, generation] of servedGenerations(inputs.cache, memo)) this.entry(key).servedGeneration = generation;
    this.proxies = [...inputs.proxies()];
  }

  /** Adds proxies until `deadline` (performance.now()) passes; the result once every proxy is in, else undefined. */
  step(deadline = Infinity): Map<string, ResourceSync> | undefined {
    while (this.next < this.proxies.length) {
      // The clock is read for every proxy (a fraction of a microsecond): an Envoy sidecar not yet settled can take
      // milliseconds (thousands of resources), and a slice that overran its deadline would hold back a push.
      if (performance.now() > deadline) return undefined;
      this.add(this.proxies[this.next++]!);
    }
    if (!this.done) {
      this.done = true;
      for (const [base, lasts] of this.grouped) {
        let proxies = 0;
        let ackedAt = 0;
        for (const c of lasts.values()) {
          proxies += c.proxies;
          ackedAt = Math.max(ackedAt, c.ackedAt);
        }
        this.count(base, proxies, ackedAt);
        for (const [last, c] of lasts) if (last) this.countLast(base, last, c.proxies, c.ackedAt);
      }
      this.memo.shared.rotate();
    }
    return this.out;
  }

  private entry(key: string): ResourceSync {
    let e = this.out.get(key);
    if (!e) this.out.set(key, (e = { servedGeneration: 0, expected: 0, acked: 0, rejections: [] }));
    return e;
  }

  private add(proxy: ConnectedProxy): void {
    const view = proxy.view;
    // A proxy that left while the computation was under way still counts: it was connected when it started.
    if (!view || !proxy.proxy) return;
    const memo = this.memo;
    const parts: TypeSync[] = [];
    for (const state of proxy.types.values()) {
      const version = view.version(state.typeUrl);
      let t = memo.types.get(state);
      if (!t || t.revision !== state.revision || t.version !== version) memo.types.set(state, (t = typeSync(state, view, version, memo.shared)));
      parts.push(t);
    }
    let p = memo.proxies.get(proxy);
    if (!p || p.parts.length !== parts.length || p.parts.some((t, i) => t !== parts[i])) {
      memo.proxies.set(proxy, (p = proxySync(parts, memo.shared)));
      this.moved++;
    }
    if (p.shared) {
      let lasts = this.grouped.get(p.shared.base);
      if (!lasts) this.grouped.set(p.shared.base, (lasts = new Map()));
      const c = lasts.get(p.shared.last);
      if (c) {
        c.proxies++;
        c.ackedAt = Math.max(c.ackedAt, p.ackedAt);
      } else lasts.set(p.shared.last, { proxies: 1, ackedAt: p.ackedAt });
      return;
    }
    this.count(p.states!, 1, p.ackedAt, proxy.proxy.id);
  }

  /** Counts `proxies` proxies holding `states`, the latest of them ACKing at `ackedAt`. */
  private count(states: ObjectStates, proxies: number, ackedAt: number, proxyId?: string): void {
    for (let i = 0; i < states.keys.length; i++) {
      const e = this.countObject(states.keys[i]!, states.held[i]!, proxies, ackedAt);
      if (states.rejected[i] !== undefined) e.rejections.push({ proxy: proxyId!, error: states.rejected[i]! });
    }
  }

  /**
   * Merges `last` into `proxies` proxies already counted with `base` (mergeOnto's rule, as counts): an object new
   * to base is counted; one base holds and `last` does not is not held after all. Shared states reject nothing.
   */
  private countLast(base: ObjectStates, last: ObjectStates, proxies: number, ackedAt: number): void {
    const index = this.memo.shared.indexOf(base);
    for (let j = 0; j < last.keys.length; j++) {
      const i = index.get(last.keys[j]!);
      if (i === undefined) this.countObject(last.keys[j]!, last.held[j]!, proxies, ackedAt);
      else if (base.held[i] && !last.held[j]) this.entry(last.keys[j]!).acked -= proxies;
    }
  }

  /** Counts `proxies` proxies holding (or not) object `key`; returns its entry. */
  private countObject(key: string, held: boolean, proxies: number, ackedAt: number): ResourceSync {
    const e = this.entry(key);
    e.expected += proxies;
    if (!held) return e;
    e.acked += proxies;
    if (ackedAt > (e.lastAckAt ?? 0)) e.lastAckAt = ackedAt;
    return e;
  }
}

/** Merges a proxy's types: an object is current only if every type holds all of it; the last rejection is told. */
function proxySync(parts: TypeSync[], shared: SharedStates): ProxySync {
  const ackedAt = Math.max(0, ...parts.map((t) => t.ackedAt));
  if (parts.every((t) => t.shared)) return { states: undefined, shared: shared.ofProxy(parts.map((t) => t.states)), parts, ackedAt };
  return { states: mergeStates(parts.map((t) => t.states)), shared: undefined, parts, ackedAt };
}

const NO_STATES: ObjectStates = { keys: [], held: [], rejected: [] };

/** `base` (whose positions are `index`) with `part` merged in: a copy of base's arrays, then part's objects. */
function mergeOnto(base: ObjectStates, index: ReadonlyMap<string, number>, part: ObjectStates): ObjectStates {
  const states: ObjectStates = { keys: base.keys.slice(), held: base.held.slice(), rejected: base.rejected.slice() };
  // A part's keys are distinct (collectStates), so an object new to base is appended once.
  for (let j = 0; j < part.keys.length; j++) {
    const i = index.get(part.keys[j]!);
    if (i === undefined) {
      states.keys.push(part.keys[j]!);
      states.held.push(part.held[j]!);
      states.rejected.push(part.rejected[j]);
    } else {
      states.held[i] &&= part.held[j]!;
      if (part.rejected[j] !== undefined) states.rejected[i] = part.rejected[j];
    }
  }
  return states;
}

function mergeStates(parts: readonly ObjectStates[]): ObjectStates {
  return collectStates((add) => {
    for (const t of parts) for (let i = 0; i < t.keys.length; i++) add(t.keys[i]!, t.held[i]!, t.rejected[i]);
  });
}

/** The highest generation of each object in what is served, recomputed only when some collection moved. */
function servedGenerations(cache: ResourceCache, memo: SyncMemo): Map<string, number> {
  const keys = cache.collectionKeys();
  const types = Object.values(TypeUrl);
  const signature = keys.map((key) => `${key}@${types.map((t) => cache.collection(key).version(t)).join('.')}`).join(' ');
  if (memo.served?.signature === signature) return memo.served.generations;
  const generations = new Map<string, number>();
  for (const key of keys) {
    const collection = cache.collection(key);
    for (const typeUrl of types) {
      for (const r of collection.resources(typeUrl).values()) {
        r.sources.forEach((s, i) => {
          const k = r.sourceKeys[i]!;
          generations.set(k, Math.max(generations.get(k) ?? 0, s.generation));
        });
      }
    }
  }
  memo.served = { signature, generations };
  return generations;
}

/**
 * One type of one proxy: per object behind what it subscribes to, held current (all of it) and the last rejection.
 * A clean type (the usual case once a push is ACKed), or one that holds and rejects nothing yet, takes the states
 * shared with every proxy wanting the same.
 */
function typeSync(state: TypeState, view: ProxyView, version: string, shared: SharedStates): TypeSync {
  const wanted = state.wanted(view);
  const base = { revision: state.revision, version, ackedAt: state.ackedAtMs ?? 0 };
  // A partly applied response can leave a rejection on a resource the proxy also holds: then it is not clean.
  const clean = state.holdsAll(view, wanted) && (state.rejected.size === 0 || wanted.every((r) => state.rejected.get(r.name)?.version !== r.version));
  // Nothing accepted or rejected yet (its first response is on its way): none of it held.
  const none = !clean && state.acked.size === 0 && state.rejected.size === 0;
  const common = clean || none ? shared.ofType(wanted, clean) : undefined;
  if (common) return { ...base, states: common, shared: true };
  const acked = state.acked;
  const states = collectStates((add) => {
    for (const r of wanted) {
      const held = acked.get(r.name)?.version === r.version;
      const rejection = state.rejected.get(r.name);
      const blamed = rejection && rejection.version === r.version ? rejection.culprits.map(sourceKey) : undefined;
      for (const key of r.sourceKeys) add(key, held, blamed?.includes(key) ? rejection!.error : undefined);
    }
  });
  return { ...base, states, shared: false };
}

/** The Programmed condition status holds for the object's current generation. */
function heldProgrammed(obj: StatusTarget): { status: ConditionStatus; reason: string; message: string } | undefined {
  return obj.status?.conditions?.find((c) => c.type === 'Programmed' && c.observedGeneration === obj.metadata.generation);
}

function sameSync(a: ResourceSync | undefined, b: ResourceSync | undefined): boolean {
  if (!a || !b) return a === b;
  return sameProgrammed(a, b) && a.expected === b.expected && a.acked === b.acked;
}

/** Equal but perhaps for the proxy counts: Programmed (served generation, rejections) says the same. */
function sameProgrammed(a: ResourceSync, b: ResourceSync): boolean {
  return (
    a.servedGeneration === b.servedGeneration &&
    a.rejections.length === b.rejections.length &&
    a.rejections.every((r, i) => r.proxy === b.rejections[i]!.proxy && r.error === b.rejections[i]!.error)
  );
}

/**
 * Programmed and the sync fields for one object, from its summary and the generation that should be served (the
 * current one, or the last accepted one while the current one is not accepted).
 */
export function programmedDetails(obj: StatusTarget, sync: ResourceSync | undefined, served: ServedGeneration = { accepted: true, generation: obj.metadata.generation ?? 0 }): StatusDetails {
  const generation = obj.metadata.generation ?? 0;
  if (served.generation === undefined || !sync || sync.servedGeneration === 0) {
    const message =
      served.generation === undefined && !served.accepted
        ? 'no proxy configuration comes from it: it is not Accepted, and no earlier generation of it was'
        : 'no proxy configuration comes from it: it is not Accepted, or nothing uses it yet (a WorkloadEntry no ServiceEntry selects, a host no ServiceEntry declares)';
    return { conditions: [{ type: 'Programmed', status: 'False', reason: 'NotInConfig', message }], fields: { proxies: null, synced: null } };
  }
  const fields = { proxies: { acked: sync.acked, expected: sync.expected }, synced: `${sync.acked}/${sync.expected}` };
  if (sync.servedGeneration < served.generation) {
    return {
      conditions: [{ type: 'Programmed', status: 'Unknown', reason: 'Pending', message: `generation ${served.generation} is not in the served configuration yet` }],
      fields,
    };
  }
  if (sync.rejections.length > 0) {
    const first = sync.rejections[0]!;
    const others = sync.rejections.length > 1 ? ` (and ${sync.rejections.length - 1} more proxies)` : '';
    return {
      conditions: [
        {
          type: 'Programmed',
          status: 'False',
          reason: 'Rejected',
          message: `proxy ${first.proxy}${others} rejected the configuration from this resource and keeps its last accepted one: ${first.error}`,
        },
      ],
      fields,
    };
  }
  if (!served.accepted) {
    const message = `${servedGenerationMessage(generation, served.generation)} is served (${sync.acked}/${sync.expected} proxies ACKed)`;
    return { conditions: [{ type: 'Programmed', status: 'False', reason: 'ServingLastAccepted', message }], fields };
  }
  return { conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed', message: 'in the configuration served to proxies' }], fields };
}

/** A Source of change notices for one kind, fed by SyncStatus. */
class ChangeSource {
  readonly resource: ResourceType;
  private readonly handlers = new Set<InformerHandler<ProgrammedChange>>();

  constructor(kind: string) {
    this.resource = { group: 'weft.dev', version: 'v1alpha1', plural: `${kind.toLowerCase()}-sync`, kind, namespaced: true };
  }

  on(handler: InformerHandler<ProgrammedChange>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  waitForSync(): Promise<boolean> {
    return Promise.resolve(true);
  }

  emit(namespace: string, name: string): void {
    const change = { metadata: { namespace, name } };
    for (const h of this.handlers) h.onUpdate?.(change, change);
  }
}

/**
 * The ProgrammedSource the reconcilers read. `attach` it to a running control plane; it recomputes at most once
 * per interval after something changed (a push, an ACK or NACK, a proxy coming or going).
 */
export class SyncStatus implements ProgrammedSource {
  private inputs: SyncInputs | undefined;
  /** Mesh-wide (this replica's part plus the others'). */
  private current = new Map<string, ResourceSync>();
  /** This replica's own part, as published to the others. */
  private local = new Map<string, ResourceSync>();
  /** Computed while following: the first recompute as leader tells every object (its reconcilers start then). */
  private notifiedAsLeader = false;
  private readonly memo = new SyncMemo();
  private readonly sources = new Map<string, ChangeSource>();
  /** Objects whose new counts are not re-enqueued yet, oldest first, with when (`now`) they first moved. */
  private readonly countsPending = new Map<string, number>();
  /** Objects re-enqueued to have their counts written (see details). */
  private readonly countsReleased = new Set<string>();
  /** When the first computation as leader ended (`now`): every object is told once counts settle, or MAX_COUNT_HOLD_MS after it. */
  private firstTakenAt: number | undefined;
  private dirty = false;
  /** Something besides proxies' own activity changed since the last computation (see markDirty, proxyMoved). */
  private changed = false;
  /** Proxies' activity (connect, request, ACK) since recompute last looked. */
  private proxyMoves = 0;
  /** Since when computations wait for moving proxies to stand still (`now`; see proxiesSettling). */
  private movingSince: number | undefined;
  private computed = false;
  /** The computation under way (sliced: see recomputeNow). */
  private computing: SyncComputation | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly computedListeners = new Set<() => void>();

  /**
   * Recomputes at most every `intervalMs` (see nextDelayMs). `countUpdatesPerInterval`: objects re-enqueued per recompute whose
   * proxy counts alone changed (status.proxies, status.synced); the rest wait for the next ones, oldest first. A
   * change of Programmed (a new generation served, a rejection) is never held back. When thousands of proxies
   * connect at once, every object's counts move every second: writing them all each time kept the API server,
   * and with it the watch event of the next real change, busy for tens of seconds.
   */
  constructor(
    private readonly intervalMs = 1000,
    private readonly countUpdatesPerInterval = 25,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** How long the last computation took (ms). */
  private lastComputeMs = 0;

  /**
   * The wait before the next recompute: the interval, or longer when a computation takes long (hundreds of Envoy
   * sidecars each holding thousands of resources), so that the sync status takes at most a tenth of a core.
   */
  get nextDelayMs(): number {
    return Math.max(this.intervalMs, this.lastComputeMs * 10);
  }

  attach(inputs: SyncInputs): void {
    this.inputs = inputs;
    this.markDirty();
  }

  /** Something changed (config served, a NACK, a proxy gone, another replica's part): recompute soon (coalesced). */
  markDirty(): void {
    this.changed = true;
    this.proxyMoved();
  }

  /**
   * A proxy connected, asked or ACKed without clearing a rejection: only proxy counts can move. Recomputes soon,
   * unless proxies are still moving (see proxiesSettling).
   */
  proxyMoved(): void {
    this.dirty = true;
    this.proxyMoves++;
    if (this.timer || !this.inputs) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.recompute();
    }, this.nextDelayMs);
    this.timer.unref();
  }

  /**
   * Whether proxies kept connecting or answering through the last interval, by the hundred (STORM_MOVES) or at all
   * while computations are costly, or have by the hundred since (a connect storm after a restart, a rollout). A
   * computation meanwhile would only find counts the next second makes stale, and take CPU the proxies are waiting
   * for: it waits until they have stood still for an interval, at most MAX_COUNT_HOLD_MS or longer after a costly
   * computation (proxiesSettling). Counts were never written before they settled anyway.
   */
  get proxiesMoving(): boolean {
    return this.movingSince !== undefined || this.proxyMoves >= STORM_MOVES;
  }

  /**
   * At a look: wait while proxies moved since the last look (by the hundred, or at all when a computation is costly
   * or answers are due) or, when a computation is costly, still owe answers, and nothing else changed; else compute,
   * `quiet` when they stood still for the whole interval (settled, whatever they did before it).
   */
  private proxiesSettling(): 'wait' | 'quiet' | 'compute' {
    const moves = this.proxyMoves;
    this.proxyMoves = 0;
    const since = this.movingSince;
    this.movingSince = undefined;
    const costly = this.lastComputeMs >= COSTLY_COMPUTE_MS;
    // Answers still due move counts next: in a storm of Envoy sidecars the server stands idle while they decode
    // megabytes, then their ACKs move every count again (and the first computation's cost is not known yet).
    if (moves === 0 && !(costly && this.answersAwaited())) return 'quiet';
    if (this.changed || (!costly && moves < STORM_MOVES && !this.answersAwaited())) return 'compute';
    if (since !== undefined && this.now() - since >= Math.max(MAX_COUNT_HOLD_MS, this.lastComputeMs * HOLD_PER_COMPUTE_MS)) return 'compute';
    this.movingSince = since ?? this.now();
    return 'wait';
  }

  /** Whether some proxy has not answered a response sent lately (one stuck for longer holds nothing up). */
  private answersAwaited(): boolean {
    const since = Date.now() - AWAITED_ANSWER_MS;
    for (const proxy of this.inputs?.proxies() ?? []) for (const state of proxy.types.values()) if (state.awaitingAnswer && state.sentAtMs! >= since) return true;
    return false;
  }

  /** Looks again after an interval, without recomputing unless something changed meanwhile (a follower waiting to lead, count updates still pending). */
  private markDirtyLater(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.recompute();
    }, this.nextDelayMs);
    this.timer.unref();
  }

  /**
   * Calls `listener` after each computation, on every replica (leader or not), once `localSnapshot` holds it: the
   * convergence metric reads it rather than computing the same state again.
   */
  onComputed(listener: () => void): () => void {
    this.computedListeners.add(listener);
    return () => this.computedListeners.delete(listener);
  }

  stop(): void {
    this.computing = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Whether summaries have been computed at least once (before that, "no summary" means "not known yet"). */
  get ready(): boolean {
    return this.computed;
  }

  /** Every object's current summary, by `Kind/namespace/name`. */
  snapshot(): ReadonlyMap<string, ResourceSync> {
    return this.current;
  }

  /** This replica's own proxies' part, by `Kind/namespace/name` (what it publishes). */
  localSnapshot(): ReadonlyMap<string, ResourceSync> {
    return this.local;
  }

  /** The current summary of one object (`Kind/namespace/name`). */
  summary(key: string): ResourceSync | undefined {
    return this.current.get(key);
  }

  details(kind: string, obj: StatusTarget, served: ServedGeneration): StatusDetails | undefined {
    if (!PROGRAMMED_KINDS.has(kind) || !this.inputs) return undefined;
    if (!this.notifiedAsLeader) {
      // Not a verdict yet: the server is still syncing its caches, or its proxies are still reconnecting (this
      // object is re-enqueued once it knows). What status already says about the current generation stands until
      // then: after a restart, rewriting every object to Pending and back, and its counts at every step of the
      // reconnection, was a burst of writes per object while proxies reconnect.
      const held = heldProgrammed(obj);
      if (held) return { conditions: [{ type: 'Programmed', status: held.status, reason: held.reason, message: held.message }] };
      return { conditions: [{ type: 'Programmed', status: 'Unknown', reason: 'Pending', message: 'the xDS server is starting' }] };
    }
    const key = sourceKey({ kind, namespace: obj.metadata.namespace!, name: obj.metadata.name! });
    const sync = this.current.get(key);
    // A VirtualService only for gateways is programmed on the gateways Weft serves; bound to others, Weft cannot tell.
    const gateways = (obj as { spec?: { gateways?: string[] } }).spec?.gateways;
    if (kind === 'VirtualService' && gateways && gateways.length > 0 && !gateways.includes('mesh') && !sync) return undefined;
    const details = programmedDetails(obj, sync, served);
    if (this.countsReleased.delete(key)) return details;
    // Reconciled for another reason (every object after a start, a watched object's change) with Programmed as
    // status says: its counts keep what status says until the budget lets them through, not all objects at once.
    const held = heldProgrammed(obj);
    const now = details.conditions?.[0];
    if (held && now && held.status === now.status && held.reason === now.reason && held.message === now.message && obj.status?.synced !== undefined) {
      if (obj.status.synced !== details.fields?.synced && !this.countsPending.has(key)) {
        this.countsPending.set(key, this.now());
        this.markDirtyLater();
      }
      return { conditions: details.conditions! };
    }
    return details;
  }

  changes(kind: string): ChangeSource {
    let source = this.sources.get(kind);
    if (!source) this.sources.set(kind, (source = new ChangeSource(kind)));
    return source;
  }

  /** Recomputes if something changed, and re-enqueues the objects whose summary changed (count-only ones within budget). */
  recompute(): void {
    // One computation at a time: what changes meanwhile leaves `dirty` set, and the next one starts when it ends.
    if (!this.inputs || this.computing) return;
    const leading = !this.inputs.isLeader || this.inputs.isLeader();
    const newlyLeading = leading && this.computed && !this.notifiedAsLeader;
    if (!this.dirty && this.countsPending.size === 0 && !newlyLeading) {
      if (!leading) this.markDirtyLater(); // a follower looks for leadership every interval
      return;
    }
    if (this.inputs.serving && !this.inputs.serving()) {
      this.markDirtyLater();
      return;
    }
    const settling = this.proxiesSettling();
    if (settling === 'wait') {
      // Counts held longest still go out, within the budget, from the last computation's summaries.
      this.afterRecompute(leading, false);
      this.markDirtyLater();
      return;
    }
    const quiet = settling === 'quiet';
    if (this.dirty || newlyLeading) this.recomputeNow(this.inputs, leading, quiet, (settled) => this.afterRecompute(leading, settled));
    else this.afterRecompute(leading, true); // nothing moved since the last computation
  }

  /**
   * Re-enqueues count-only changes within the budget once counts settled (those held longest first), or just looks
   * again later (a follower; a leader whose first notice waits for counts to settle).
   */
  private afterRecompute(leading: boolean, settled: boolean): void {
    if (!leading) {
      this.countsPending.clear();
      this.markDirtyLater();
      return;
    }
    if (!this.notifiedAsLeader) {
      this.markDirtyLater();
      return;
    }
    let budget = this.countUpdatesPerInterval;
    const now = this.now();
    for (const [key, since] of this.countsPending) {
      if (budget-- <= 0) break;
      if (!settled && now - since < MAX_COUNT_HOLD_MS) break; // the rest moved later still
      this.countsPending.delete(key);
      this.countsReleased.add(key);
      this.emit(key);
    }
    if (this.countsPending.size > 0) this.markDirtyLater(); // the rest next time, from these summaries unless something moves
  }

  /**
   * Computes in slices of at most SLICE_MS, each in its own event-loop turn (a small mesh: all in the first, at
   * once), then takes the result and calls `then`. `lastComputeMs` is the busy time, which spaces the next one.
   */
  private recomputeNow(inputs: SyncInputs, leading: boolean, quiet: boolean, then: (settled: boolean) => void): void {
    this.dirty = false;
    this.changed = false;
    this.proxyMoves = 0;
    const computation = new SyncComputation(inputs, this.memo);
    this.computing = computation;
    let busyMs = 0;
    const slice = (): void => {
      if (this.computing !== computation) return; // stopped meanwhile
      const started = this.now();
      const local = computation.step(performance.now() + SLICE_MS);
      busyMs += this.now() - started;
      if (!local) {
        // The next slice waits for pushes being told to streams: counts can wait, a push cannot (the first push
        // after a storm of sidecars otherwise shared the CPU with the computation the storm had put off).
        setImmediate(() => inputs.cache.afterFanOut(slice));
        return;
      }
      this.computing = undefined;
      this.lastComputeMs = busyMs;
      const settled = quiet || computation.moved === 0;
      this.take(inputs, leading, local, settled);
      then(settled);
      if (this.dirty) this.markDirtyLater(); // what changed while it computed
    };
    slice();
  }

  private take(inputs: SyncInputs, leading: boolean, local: Map<string, ResourceSync>, settled: boolean): void {
    this.local = local;
    const remote = [...(inputs.remote?.() ?? [])];
    const next = remote.length === 0 ? this.local : mergeCounts([this.local, ...remote]);
    const previous = this.current;
    const first = !this.notifiedAsLeader;
    this.current = next;
    this.computed = true;
    // An object re-enqueued that no longer exists never asked for its counts.
    for (const key of this.countsReleased) if (!next.has(key)) this.countsReleased.delete(key);
    for (const listener of this.computedListeners) listener();
    if (!leading) return;
    if (first) {
      // After a restart proxies reconnect over seconds: every object is told once (its reconcile writes its counts),
      // when they have, not at a step of the way; until then status keeps what it said (see details).
      this.firstTakenAt ??= this.now();
      if (!settled && this.now() - this.firstTakenAt < MAX_COUNT_HOLD_MS) return;
      this.notifiedAsLeader = true;
      for (const [kind, source] of this.sources) {
        for (const o of inputs.objects?.(kind) ?? []) source.emit(o.metadata.namespace ?? '', o.metadata.name ?? '');
      }
      return;
    }
    for (const key of new Set([...previous.keys(), ...next.keys()])) {
      const before = previous.get(key);
      const after = next.get(key);
      if (sameSync(before, after)) continue;
      if (before && after && sameProgrammed(before, after)) {
        if (!this.countsPending.has(key)) this.countsPending.set(key, this.now());
        continue;
      }
      this.countsPending.delete(key);
      this.countsReleased.add(key);
      this.emit(key);
    }
  }

  private emit(key: string): void {
    const [kind, namespace, name] = key.split('/') as [string, string, string];
    this.sources.get(kind)?.emit(namespace, name);
  }
}
