// What SotW and delta streams share: the proxy behind them, its view of the config, per-type state, and the
// way a change is pushed (types in make-before-break order, stale clusters removed last).
import type { ChangeSet, ProxyView } from '../cache.js';
import { PUSH_ORDER, TypeUrl } from '../protos.js';
import type { NodeMessage } from './messages.js';
import { proxyFromNode, type ProxyInfo } from './proxy.js';
import { TypeState, type Rejection } from './type-state.js';

const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
/**
 * Each served type URL, to its constant: a request's own copy of the string is swapped for it, so that the maps keyed
 * by type compare one string with itself.
 */
const SERVED_TYPES: ReadonlyMap<string, TypeUrl> = new Map(Object.values(TypeUrl).map((t) => [t, t]));

export type Protocol = 'sotw' | 'delta';

/** A proxy's answer to a response: an ACK (which may have cleared earlier rejections of its resources) or a NACK. */
export type AnswerOutcome = { acked: true; clearedRejection: boolean } | { acked: false; rejection: Rejection };

/** Whether the proxy still rejects some resource (it leaving, or accepting it, changes what status says). */
export function hasRejections(proxy: Pick<ConnectedProxy, 'types'>): boolean {
  for (const state of proxy.types.values()) if (state.rejected.size > 0) return true;
  return false;
}

/** The server's part: find a proxy's view, and hear about ACKs and NACKs. */
export interface StreamHost {
  /** The config this proxy should see on a stream of `protocol`. Called once per stream, on its first request. */
  openView(proxy: ProxyInfo, protocol: Protocol): { view: ProxyView; release: () => void };
  onAnswer?(stream: AdsStream, typeUrl: string, outcome: AnswerOutcome): void;
  onClose?(stream: AdsStream): void;
  log?: { debug(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Resource names one request may name; more ends the stream RESOURCE_EXHAUSTED. */
  maxNamesPerRequest?: number;
  /** A stream ended for what it would cost. */
  onLimited?(stream: AdsStream, reason: 'names'): void;
}

/** The bytes a stream writes, and how it fails. */
export interface StreamSink {
  write(message: Buffer): void;
  fail(code: number, details: string): void;
}

/** A read-only look at a connected proxy, for the debug endpoint and the sync status. */
export interface ConnectedProxy {
  readonly streamId: number;
  readonly protocol: Protocol;
  readonly proxy: ProxyInfo | undefined;
  readonly view: ProxyView | undefined;
  readonly connectedAt: Date;
  readonly types: ReadonlyMap<string, TypeState>;
}

let nextStreamId = 1;

/** A map per type URL, made on first use (what a stream remembers per type beyond its TypeState). */
export class PerType<K, V> {
  private readonly maps = new Map<string, Map<K, V>>();

  of(typeUrl: string): Map<K, V> {
    let map = this.maps.get(typeUrl);
    if (!map) this.maps.set(typeUrl, (map = new Map()));
    return map;
  }
}

/** The fields of a request every stream reads before handing it to its protocol. */
export interface RequestBase {
  node?: NodeMessage;
  type_url: string;
  /** SotW's subscription, and its length where counting it is cheaper than decoding it (a request off the wire). */
  resource_names?: readonly string[];
  names_count?: number;
  /** Delta's subscription changes and the versions a reconnecting client holds. */
  resource_names_subscribe?: readonly string[];
  initial_resource_versions?: Readonly<Record<string, string>>;
}

export abstract class AdsStream<Req extends RequestBase = RequestBase> implements ConnectedProxy {
  readonly streamId = nextStreamId++;
  readonly connectedAt = new Date();
  abstract readonly protocol: Protocol;
  proxy: ProxyInfo | undefined;
  view: ProxyView | undefined;
  readonly types = new Map<string, TypeState>();
  private release: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private nonceCounter = 0;
  protected closed = false;

  constructor(
    protected readonly host: StreamHost,
    protected readonly sink: StreamSink,
  ) {}

  /**
   * What every request does first, SotW or delta: nothing on a closed stream; on the first request, which must
   * carry the node, bind the stream to its proxy; then the protocol handles it with its type's state (made on first
   * use, and marked as possibly changed).
   */
  onRequest(req: Req): void {
    if (this.closed) return;
    if (!this.proxy) {
      if (!req.node) return this.sink.fail(INVALID_ARGUMENT, 'the first request of a stream must carry the node');
      this.attach(proxyFromNode(req.node));
    }
    // A type the server does not serve would wait forever: say so. (Bounded too: at most the served types per stream.)
    const typeUrl = SERVED_TYPES.get(req.type_url);
    if (typeUrl === undefined) {
      return this.sink.fail(INVALID_ARGUMENT, `type URL ${JSON.stringify(req.type_url)} is not served here (served: ${[...SERVED_TYPES.keys()].join(', ')})`);
    }
    req.type_url = typeUrl;
    const initial = req.initial_resource_versions;
    const names = (req.names_count ?? req.resource_names?.length ?? 0) + (req.resource_names_subscribe?.length ?? 0) + (initial ? Object.keys(initial).length : 0);
    const max = this.host.maxNamesPerRequest;
    if (max !== undefined && names > max) {
      this.host.onLimited?.(this, 'names');
      return this.sink.fail(RESOURCE_EXHAUSTED, `a request may name at most ${max} resources; this one names ${names}`);
    }
    const { state, isNew } = this.typeState(typeUrl);
    state.revision++;
    this.handle(req, state, isNew);
  }

  /** The protocol's part of a request; `isNew` on the type's first request. */
  protected abstract handle(req: Req, state: TypeState, isNew: boolean): void;

  /** Binds the stream to its proxy's view on the first request. */
  private attach(proxy: ProxyInfo): void {
    this.proxy = proxy;
    const { view, release } = this.host.openView(proxy, this.protocol);
    this.view = view;
    this.release = release;
    this.unsubscribe = view.onChange((changes) => {
      if (!this.closed) this.push(changes);
    });
  }

  protected nextNonce(): string {
    return (++this.nonceCounter).toString(36);
  }

  private typeState(typeUrl: string): { state: TypeState; isNew: boolean } {
    let state = this.types.get(typeUrl);
    if (state) return { state, isNew: false };
    state = new TypeState(typeUrl);
    this.types.set(typeUrl, state);
    return { state, isNew: true };
  }

  /**
   * Pushes a change: clusters and endpoints first, listeners and routes after, and clusters that disappeared only
   * once nothing routes to them any more (the last step).
   */
  private push(changes: ChangeSet): void {
    const ordered = [...PUSH_ORDER, ...[...changes.keys()].filter((t) => !(PUSH_ORDER as readonly string[]).includes(t))];
    // Removed clusters wait only if listeners or routes follow in this push (they may still point at them).
    const routesFollow = [TypeUrl.listener, TypeUrl.route, TypeUrl.virtualHost].some((t) => changes.has(t) && this.types.has(t));
    let staleClusters = false;
    for (const typeUrl of ordered) {
      const names = changes.get(typeUrl);
      const state = this.types.get(typeUrl);
      if (!names || !state) continue;
      if (this.pushType(state, names, typeUrl === TypeUrl.cluster && routesFollow)) staleClusters = true;
    }
    if (staleClusters) {
      const state = this.types.get(TypeUrl.cluster)!;
      this.pushType(state, changes.get(TypeUrl.cluster)!, false);
    }
  }

  /**
   * Sends what changed of one type. With `holdBackRemovals`, resources that disappeared are kept for now; returns
   * true if some were (the caller sends the removal later).
   */
  protected abstract pushType(state: TypeState, changed: ReadonlySet<string>, holdBackRemovals: boolean): boolean;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.release?.();
    this.host.onClose?.(this);
  }

  protected answered(state: TypeState, nonce: string, error: { code: number; message: string } | undefined): void {
    const rejections = state.rejected.size;
    if (!state.answered(nonce, error)) return;
    if (error) this.host.onAnswer?.(this, state.typeUrl, { acked: false, rejection: state.lastRejection! });
    else this.host.onAnswer?.(this, state.typeUrl, { acked: true, clearedRejection: state.rejected.size < rejections });
  }
}
