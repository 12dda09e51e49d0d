// Per stream, per resource type: what the proxy subscribed to, what it was sent under which nonce, and what it
// accepted or rejected. SotW and delta streams both keep one of these per type; the debug endpoint and the sync
// status read them.
import type { ProxyView } from '../cache.js';
import { isNamespacedType, namespaceOf } from '../protos.js';
import { sameResources, type SourceRef, type XdsResource } from '../resource.js';
import { HeldResources } from './held-resources.js';
import type { ErrorDetail } from './messages.js';

/** One response awaiting the proxy's ACK or NACK. */
interface SentResponse {
  /** The type version the response carried (SotW version_info, delta system_version_info). */
  version: string;
  resources: readonly XdsResource[];
  removed: readonly string[];
  /** A SotW LDS/CDS response: the whole set the proxy holds once it applies it. */
  whole?: boolean;
}

export interface Rejection {
  /** The version the proxy rejected, and its words. */
  version: string;
  error: string;
  at: Date;
}

/** One rejected resource, and the mesh objects to blame: those whose change it carried. */
export interface RejectedResource extends Rejection {
  resource: XdsResource;
  culprits: readonly SourceRef[];
}

const NO_REJECTIONS: ReadonlyMap<string, RejectedResource> = new Map();

/** The empty name set, one for all (a new subscription's, a first request's "before"). */
export const NO_NAMES: ReadonlySet<string> = new Set();

/** Subscriptions of this many names or more are listed in the view's order (see wanted). */
export const LARGE_SUBSCRIPTION = 64;

/**
 * A type's subscribed names, with a revision that moves whenever they change (see TypeState.wanted). A SotW stream
 * adopts the set of the list it sent (ResolvedNames.names), which it shares with every stream that sent the same
 * list to its view (a connect storm's clients, a workload's replicas) until it changes it: then it copies it first.
 */
export class Subscription implements Iterable<string> {
  revision = 0;
  /** Empty at first: one set for all (most SotW subscriptions adopt theirs at once). */
  private names = NO_NAMES as Set<string>;
  /** names is an adopted set, others' too: copied before a change. */
  private adopted = true;

  get size(): number {
    return this.names.size;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.names.values();
  }

  /** The names as they are now: a set this subscription no longer changes once it adopts another or changes. */
  current(): ReadonlySet<string> {
    this.adopted = true; // whoever holds it sees it as it is now: changes copy it first
    return this.names;
  }

  /** Holds exactly `names` from now on (a set nobody changes: see the class). */
  adopt(names: ReadonlySet<string>): void {
    if (names === this.names) return;
    if (names.size > 0 || this.names.size > 0) this.revision++;
    this.names = names as Set<string>;
    this.adopted = true;
  }

  add(name: string): this {
    // The size tells whether it was new: one lookup, not two (an Envoy sidecar's EDS subscribes thousands of names).
    const names = this.own();
    const size = names.size;
    names.add(name);
    if (names.size !== size) this.revision++;
    return this;
  }

  delete(name: string): boolean {
    if (!this.names.has(name)) return false;
    this.own().delete(name);
    this.revision++;
    return true;
  }

  clear(): void {
    if (this.names.size === 0) return;
    this.revision++;
    this.names = NO_NAMES as Set<string>;
    this.adopted = true;
  }

  private own(): Set<string> {
    if (this.adopted) {
      this.names = new Set(this.names);
      this.adopted = false;
    }
    return this.names;
  }
}

/** Responses remembered per type while their ACKs are outstanding; older ones are forgotten. */
const MAX_PENDING = 32;

export class TypeState {
  /** Names the proxy asked for (not counting `*`). */
  readonly subscribed = new Subscription();
  private wildcardSubscription = false;
  /** The nonce of the latest response: only a request carrying it may ACK/NACK or be answered (SotW). */
  lastNonce = '';
  /** The last version the proxy accepted for the type as a whole. */
  ackedVersion = '';
  /** The version of the latest response and when it went out (epoch ms; proxy-status: "time since the last response"). */
  sentVersion = '';
  sentAtMs: number | undefined;
  /** When the proxy last ACKed any response (epoch ms). Numbers, not Dates: two objects fewer per answer, per stream. */
  ackedAtMs: number | undefined;
  /** The latest NACK, until a later ACK clears it. */
  lastRejection: Rejection | undefined;
  /** What the proxy accepted last: after an ACK of a whole-set response, that response's resources. */
  private readonly accepted = new HeldResources();
  /** Per resource: what the proxy rejected, and why (cleared when it accepts a later one). Made on the first NACK. */
  private rejections: Map<string, RejectedResource> | undefined;
  private readonly pending = new Map<string, SentResponse>();
  /**
   * Moves whenever the subscription or the answers may have changed (every request on the type): the sync status
   * reuses what it concluded from this state while the revision and the served version stand still.
   */
  revision = 0;

  /** wanted's last answer, while the subscription and the type's served version stand still. */
  private wantedMemo: { view: ProxyView; subscription: number; version: string; list: XdsResource[] } | undefined;

  /** holdsAll's last answer, while the revision and the type's served version stand still. */
  private held: { revision: number; version: string; holdsAll: boolean } | undefined;

  /** Subscribed names are namespaces (VHDS): a name covers every resource named `<name>/...`. */
  readonly namespaced: boolean;

  /** The key of the SotW list that set the subscription (ResolvedNames.key), at the subscription's revision then. */
  private listKey: string | undefined;
  private listKeyRevision = -1;

  constructor(readonly typeUrl: string) {
    this.namespaced = isNamespacedType(typeUrl);
  }

  /** Whether the proxy subscribes to every resource of the type (a legacy or explicit wildcard). */
  get wildcard(): boolean {
    return this.wildcardSubscription;
  }

  set wildcard(wildcard: boolean) {
    if (wildcard !== this.wildcardSubscription) this.subscribed.revision++;
    this.wildcardSubscription = wildcard;
  }

  /** Per resource: what the proxy accepted last. */
  get acked(): ReadonlyMap<string, XdsResource> {
    return this.accepted.map;
  }

  /** Whether a response sent is still waiting for the proxy's ACK or NACK (its counts are about to move). */
  get awaitingAnswer(): boolean {
    return this.pending.size > 0;
  }

  /** What the proxy rejects now, per resource. */
  get rejected(): ReadonlyMap<string, RejectedResource> {
    return this.rejections ?? NO_REJECTIONS;
  }

  /** Remembers the list (by its ResolvedNames.key, if it has one) that set the subscription as it stands now. */
  subscribedBy(key: string | undefined): void {
    this.listKey = key;
    this.listKeyRevision = this.subscribed.revision;
  }

  /** Whether `request` repeats the list that set the subscription, unchanged since (its key read only then). */
  repeatsList(request: { readonly names_key?: string }): boolean {
    return this.listKey !== undefined && this.listKeyRevision === this.subscribed.revision && request.names_key === this.listKey;
  }

  /** Whether the proxy should get `name` (explicitly, by its namespace, or by wildcard). */
  wants(name: string): boolean {
    return this.wildcard || this.subscribed.has(name) || (this.namespaced && this.subscribed.has(namespaceOf(name)));
  }

  /**
   * The resources of `view` the proxy should hold: in the view's order for a wildcard, namespaced or large
   * subscription (a response then copies a collection's encoded run whole: an Envoy sidecar's EDS names thousands),
   * else in the subscription's. A list in the view's order is kept until the subscription or the served version
   * moves (callers do not change it): the sync status asks for every proxy's in each computation, thousands of names
   * for a sidecar's EDS. A small one is listed anew each time (a proxyless client's few: cheaper than keeping them).
   */
  wanted(view: ProxyView): XdsResource[] {
    if (!this.wildcard && !this.namespaced && this.subscribed.size < LARGE_SUBSCRIPTION) {
      const out: XdsResource[] = [];
      for (const name of this.subscribed) {
        const r = view.get(this.typeUrl, name);
        if (r) out.push(r);
      }
      return out;
    }
    const version = view.version(this.typeUrl);
    const memo = this.wantedMemo;
    if (memo?.view === view && memo.subscription === this.subscribed.revision && memo.version === version) return memo.list;
    const list = this.wildcard ? view.all(this.typeUrl) : view.all(this.typeUrl).filter((r) => this.wants(r.name));
    this.wantedMemo = { view, subscription: this.subscribed.revision, version, list };
    return list;
  }

  /**
   * Whether the proxy ACKed the version `view` serves now of every resource it should hold (`wanted`, when the
   * caller has it already). The sync status and the replica summary both ask, for every proxy, after every push;
   * the answer is kept until a request or a change of the type's served version.
   */
  holdsAll(view: ProxyView, wanted?: readonly XdsResource[]): boolean {
    const version = view.version(this.typeUrl);
    if (this.held?.revision === this.revision && this.held.version === version) return this.held.holdsAll;
    const want = wanted ?? this.wanted(view);
    // The usual case after a whole-set ACK: the same resources, in the order they were sent (no index needed).
    const whole = this.accepted.whole;
    let holdsAll = whole !== undefined && sameResources(want, whole);
    if (!holdsAll) {
      const acked = this.acked;
      holdsAll = want.every((r) => acked.get(r.name)?.version === r.version);
    }
    this.held = { revision: this.revision, version, holdsAll };
    return holdsAll;
  }

  sent(nonce: string, response: SentResponse): void {
    this.lastNonce = nonce;
    this.sentVersion = response.version;
    this.sentAtMs = Date.now();
    this.pending.set(nonce, response);
    if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  }

  /**
   * Records the proxy's answer to the response with `nonce` (ACK without `error`, NACK with it). Answers to older
   * responses still count for tracking: a proxy handles responses in order, so each one gets an answer. Returns
   * false for a nonce this stream never sent (or forgot).
   */
  answered(nonce: string, error: ErrorDetail | undefined): boolean {
    const response = this.pending.get(nonce);
    if (!response) return false;
    this.revision++;
    // Deleting the entry being visited is safe while iterating a Map.
    for (const key of this.pending.keys()) {
      this.pending.delete(key);
      if (key === nonce) break;
    }
    if (!error) {
      this.ackedVersion = response.version;
      this.ackedAtMs = Date.now();
      this.lastRejection = undefined;
      if (response.whole) {
        // What it held and was not sent is in `removed`, or was forgotten when unsubscribed: it holds just these.
        this.accepted.replace(response.resources);
      } else {
        this.accepted.add(response.resources);
        for (const name of response.removed) this.accepted.delete(name);
      }
      if (this.rejections) for (const r of response.resources) this.rejections.delete(r.name);
      return true;
    }
    const rejection: Rejection = { version: response.version, error: error.message, at: new Date() };
    this.lastRejection = rejection;
    const culprits = attributeRejection(response.resources, error.message);
    for (const r of response.resources) {
      if (culprits.has(r.name)) (this.rejections ??= new Map()).set(r.name, { ...rejection, version: r.version, resource: r, culprits: changedSources(this.acked.get(r.name), r) });
      else if (culprits.size < response.resources.length) this.accepted.set(r); // the rest was applied
    }
    return true;
  }

  /** Forgets per-resource state for names the proxy no longer subscribes to. */
  forget(name: string): void {
    this.revision++;
    this.accepted.delete(name);
    this.rejections?.delete(name);
  }
}

/**
 * The mesh objects whose change a rejected resource carried, compared with the version the proxy holds: a new
 * generation, or a new contributor. A resource the proxy never accepted blames all of its sources.
 */
export function changedSources(accepted: XdsResource | undefined, rejected: XdsResource): SourceRef[] {
  if (!accepted) return [...rejected.sources];
  const before = new Map(accepted.sources.map((s) => [`${s.kind}/${s.namespace}/${s.name}`, s.generation]));
  const changed = rejected.sources.filter((s) => before.get(`${s.kind}/${s.namespace}/${s.name}`) !== s.generation);
  return changed.length > 0 ? changed : [...rejected.sources];
}

/**
 * Which resources of a rejected response the error is about. Envoy names them ("Error adding/updating cluster(s)
 * outbound|80||a: ..."); gRPC numbers them ("resource index 1: Cluster message validation failed: ..."). When the
 * message says neither, every resource of the response is suspect.
 */
export function attributeRejection(resources: ReadonlyArray<Pick<XdsResource, 'name'>>, message: string): Set<string> {
  const named = resources.filter((r) => r.name !== '' && message.includes(r.name)).map((r) => r.name);
  if (named.length > 0) return new Set(named);
  const indexes = [...message.matchAll(/resource index (\d+)/g)].map((m) => Number(m[1]));
  const indexed = indexes.map((i) => resources[i]?.name).filter((n): n is string => n !== undefined);
  if (indexed.length > 0) return new Set(indexed);
  return new Set(resources.map((r) => r.name));
}
