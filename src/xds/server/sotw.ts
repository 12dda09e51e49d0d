// State-of-the-world ADS (StreamAggregatedResources): every request carries the proxy's full subscription for a
// type; LDS and CDS responses carry every resource the proxy should hold (a missing one is deleted), RDS and EDS
// responses only the resources that changed (their deletion happens through their parents).
import { isFullStateType } from '../protos.js';
import type { ProxyView } from '../cache.js';
import type { XdsResource } from '../resource.js';
import type { DiscoveryRequest } from './messages.js';
import { HeldResources } from './held-resources.js';
import { AdsStream } from './stream.js';
import { LARGE_SUBSCRIPTION, NO_NAMES, type TypeState } from './type-state.js';

export class SotwStream extends AdsStream<DiscoveryRequest> {
  readonly protocol = 'sotw' as const;
  /** Per LDS/CDS type: the whole set of resources the proxy was last sent, so it holds. */
  private readonly held = new Map<string, HeldResources>();

  protected override handle(req: DiscoveryRequest, state: TypeState, isNew: boolean): void {
    const typeUrl = req.type_url;
    if (req.response_nonce !== '') {
      this.answered(state, req.response_nonce, req.error_detail);
      // A request about an older response: the proxy has not seen the latest one yet and will ask again after it.
      if (req.response_nonce !== state.lastNonce) return;
    }
    const full = isFullStateType(typeUrl);
    // An ACK repeats the subscription: nothing to add, drop or send (most requests of a connect storm are ACKs).
    if (!isNew && (state.repeatsList(req) || sameSubscription(state, req.resource_names, full))) return;
    const view = this.view!;
    // The names as the view resolves them: each existing one as the resource's own string (thousands of streams
    // then share one copy, and the maps keyed by it compare a string with itself), and the resources it holds of
    // them, in the response's order when the names came ascending (clients sort them).
    const resolved = view.resolve(typeUrl, req);
    const before = isNew ? NO_NAMES : state.subscribed.current();
    const wasWildcard = state.wildcard;
    state.subscribed.adopt(resolved.names);
    const newcomer = resolved.existing.some((r) => !before.has(r.name));
    const found = resolved.ascending ? resolved.existing : undefined;
    // Legacy wildcard: a first request without names means "everything", and stays so while the names stay empty.
    state.wildcard = full && (resolved.star || (resolved.names.size === 0 && (isNew || wasWildcard)));
    state.subscribedBy(resolved.key);
    for (const name of before) {
      if (state.wants(name)) continue;
      state.forget(name);
      if (full) this.heldOf(typeUrl).delete(name);
    }
    if (full) {
      // Newly requested names are sent even if sent before; names that do not exist yet wait until they do.
      if ((isNew && (state.wildcard || newcomer)) || newcomer || (state.wildcard && !wasWildcard)) this.sendFull(state, false, state.wildcard ? undefined : found);
    } else if (found) {
      // A large first subscription (an Envoy sidecar's EDS) goes out in the view's order: see TypeState.wanted.
      this.send(state, isNew ? (found.length >= LARGE_SUBSCRIPTION ? state.wanted(view) : found) : found.filter((r) => !before.has(r.name)), [], true);
    } else {
      this.sendSome(state, isNew ? [...state.subscribed] : [...state.subscribed].filter((n) => !before.has(n)));
    }
  }

  protected override pushType(state: TypeState, changed: ReadonlySet<string>, holdBackRemovals: boolean): boolean {
    const typeUrl = state.typeUrl;
    if (!isFullStateType(typeUrl)) {
      this.sendSome(state, [...changed].filter((n) => state.subscribed.has(n)));
      return false;
    }
    const held = this.heldOf(typeUrl);
    const relevant = [...changed].some((n) => state.wants(n) || held.map.has(n));
    if (!relevant) return false;
    return this.sendFull(state, holdBackRemovals);
  }

  /**
   * An LDS/CDS response with everything the proxy should hold (plus, with `keepStale`, what it holds now).
   * `subscribed`: the existing resources of the subscription sorted by name, when the caller has them.
   */
  private sendFull(state: TypeState, keepStale: boolean, subscribed?: readonly XdsResource[]): boolean {
    const typeUrl = state.typeUrl;
    const view = this.view!;
    const held = this.heldOf(typeUrl);
    let resources = subscribed ?? (state.wildcard ? view.all(typeUrl) : existing(view, typeUrl, [...state.subscribed].sort()));
    let memoize = true;
    let stale: XdsResource[] = [];
    let removed: string[] = [];
    // What the proxy holds and will not be sent (nothing, on a stream's first response).
    if (held.size > 0) {
      const current = new Set(resources.map((r) => r.name));
      if (keepStale) {
        stale = [...held.map.values()].filter((r) => !current.has(r.name));
        if (stale.length > 0) {
          resources = [...resources, ...stale];
          memoize = false; // a transition state of this stream only
        }
      } else removed = [...held.map.keys()].filter((n) => !current.has(n));
    }
    this.send(state, resources, removed, memoize);
    held.replace(resources);
    return stale.length > 0;
  }

  private heldOf(typeUrl: string): HeldResources {
    let held = this.held.get(typeUrl);
    if (!held) this.held.set(typeUrl, (held = new HeldResources()));
    return held;
  }

  /** An RDS/EDS response with just `names` (those that exist; the array is sorted in place). */
  private sendSome(state: TypeState, names: string[]): void {
    const resources = existing(this.view!, state.typeUrl, names.sort());
    this.send(state, resources, [], true);
  }

  /** A response (none for an RDS/EDS one with nothing in it). */
  private send(state: TypeState, resources: readonly XdsResource[], removed: string[], memoize: boolean): void {
    const whole = isFullStateType(state.typeUrl);
    if (resources.length === 0 && !whole) return;
    const view = this.view!;
    const nonce = this.nextNonce();
    const version = view.version(state.typeUrl);
    this.sink.write(view.sotwResponse(state.typeUrl, resources, nonce, memoize));
    state.sent(nonce, { version, resources, removed, whole });
  }
}

/** The resources of `view` named in `names`, in that order, leaving out names it does not hold. */
function existing(view: ProxyView, typeUrl: string, names: readonly string[]): XdsResource[] {
  const resources: XdsResource[] = [];
  for (const name of names) {
    const r = view.get(typeUrl, name);
    if (r) resources.push(r);
  }
  return resources;
}

/** Whether `names` asks for exactly what `state` holds as its subscription, wildcard included. */
export function sameSubscription(state: TypeState, names: readonly string[], full: boolean): boolean {
  const wildcard = full && (names.includes('*') || (names.length === 0 && state.wildcard));
  if (wildcard !== state.wildcard) return false;
  // Every name subscribed, and as many distinct names as the subscription holds. Clients send them sorted (gRPC,
  // and Envoy's named types), which proves them distinct without building a set.
  let count = 0;
  let ascending = true;
  let previous: string | undefined;
  for (const name of names) {
    if (name === '*') continue;
    if (!state.subscribed.has(name)) return false;
    if (previous !== undefined && !(previous < name)) ascending = false;
    previous = name;
    count++;
  }
  if (ascending) return count === state.subscribed.size;
  return new Set(names.filter((n) => n !== '*')).size === state.subscribed.size;
}
