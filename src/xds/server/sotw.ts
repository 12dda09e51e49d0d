// State-of-the-world ADS (StreamAggregatedResources): every request carries the proxy's full subscription for a
// type; LDS and CDS responses carry every resource the proxy should hold (a missing one is deleted), RDS and EDS
// responses only the resources that changed (their deletion happens through their parents).
import { isFullStateType } from '../protos.js';
import type { XdsResource } from '../resource.js';
import { sotwResponse, type DiscoveryRequest } from './messages.js';
import { AdsStream, PerType } from './stream.js';
import type { TypeState } from './type-state.js';

export class SotwStream extends AdsStream<DiscoveryRequest> {
  readonly protocol = 'sotw' as const;
  /** Per type: the resources the proxy was last sent (for LDS/CDS, the whole set it holds). */
  private readonly held = new PerType<string, XdsResource>();

  protected override handle(req: DiscoveryRequest, state: TypeState, isNew: boolean): void {
    const typeUrl = req.type_url;
    if (req.response_nonce !== '') {
      this.answered(state, req.response_nonce, req.error_detail);
      // A request about an older response: the proxy has not seen the latest one yet and will ask again after it.
      if (req.response_nonce !== state.lastNonce) return;
    }
    const full = isFullStateType(typeUrl);
    // An ACK repeats the subscription: nothing to add, drop or send (most requests of a connect storm are ACKs).
    if (!isNew && sameSubscription(state, req.resource_names, full)) return;
    const before = new Set(state.subscribed);
    const wasWildcard = state.wildcard;
    state.subscribed.clear();
    for (const name of req.resource_names) if (name !== '*') state.subscribed.add(name);
    // Legacy wildcard: a first request without names means "everything", and stays so while the names stay empty.
    state.wildcard = full && (req.resource_names.includes('*') || (req.resource_names.length === 0 && (isNew || wasWildcard)));
    const held = this.held.of(typeUrl);
    for (const name of before) {
      if (state.wants(name)) continue;
      state.forget(name);
      held.delete(name);
    }
    const added = [...state.subscribed].filter((n) => !before.has(n));
    const view = this.view!;
    if (full) {
      // Newly requested names are sent even if sent before; names that do not exist yet wait until they do.
      const newcomer = added.some((n) => view.get(typeUrl, n) !== undefined);
      if ((isNew && (state.wildcard || newcomer)) || newcomer || (state.wildcard && !wasWildcard)) this.sendFull(state, false);
    } else {
      const names = isNew ? [...state.subscribed] : added;
      this.sendSome(state, names);
    }
  }

  protected override pushType(state: TypeState, changed: ReadonlySet<string>, holdBackRemovals: boolean): boolean {
    const typeUrl = state.typeUrl;
    if (!isFullStateType(typeUrl)) {
      this.sendSome(state, [...changed].filter((n) => state.subscribed.has(n)));
      return false;
    }
    const held = this.held.of(typeUrl);
    const relevant = [...changed].some((n) => state.wants(n) || held.has(n));
    if (!relevant) return false;
    return this.sendFull(state, holdBackRemovals);
  }

  /** An LDS/CDS response with everything the proxy should hold (plus, with `keepStale`, what it holds now). */
  private sendFull(state: TypeState, keepStale: boolean): boolean {
    const typeUrl = state.typeUrl;
    const view = this.view!;
    const held = this.held.of(typeUrl);
    let resources: XdsResource[];
    let memoKey: string | undefined;
    if (state.wildcard) {
      resources = [...view.all(typeUrl)];
      memoKey = '*';
    } else {
      resources = [...state.subscribed].sort().flatMap((n) => view.get(typeUrl, n) ?? []);
      memoKey = resources.map((r) => r.name).join('\n');
    }
    const current = new Set(resources.map((r) => r.name));
    let stale: XdsResource[] = [];
    if (keepStale) {
      stale = [...held.values()].filter((r) => !current.has(r.name));
      if (stale.length > 0) {
        resources = [...resources, ...stale];
        memoKey = undefined; // a transition state of this stream only
      }
    }
    const removed = keepStale ? [] : [...held.keys()].filter((n) => !current.has(n));
    this.send(state, resources, removed, memoKey);
    held.clear();
    for (const r of resources) held.set(r.name, r);
    return stale.length > 0;
  }

  /** An RDS/EDS response with just `names` (those that exist). */
  private sendSome(state: TypeState, names: readonly string[]): void {
    const view = this.view!;
    const resources = [...names].sort().flatMap((n) => view.get(state.typeUrl, n) ?? []);
    if (resources.length === 0) return;
    this.send(state, resources, [], resources.map((r) => r.name).join('\n'));
    const held = this.held.of(state.typeUrl);
    for (const r of resources) held.set(r.name, r);
  }

  private send(state: TypeState, resources: XdsResource[], removed: string[], memoKey: string | undefined): void {
    const view = this.view!;
    const nonce = this.nextNonce();
    const version = view.version(state.typeUrl);
    this.sink.write(sotwResponse(view.sotwBody(state.typeUrl, resources, memoKey), nonce));
    state.sent(nonce, { version, resources, removed });
  }
}

/** Whether `names` asks for exactly what `state` holds as its subscription, wildcard included. */
export function sameSubscription(state: TypeState, names: readonly string[], full: boolean): boolean {
  const wildcard = full && (names.includes('*') || (names.length === 0 && state.wildcard));
  if (wildcard !== state.wildcard) return false;
  const wanted = new Set(names);
  wanted.delete('*');
  if (wanted.size !== state.subscribed.size) return false;
  for (const name of wanted) if (!state.subscribed.has(name)) return false;
  return true;
}
