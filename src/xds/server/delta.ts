// Incremental ADS (DeltaAggregatedResources): requests subscribe and unsubscribe names; responses carry only the
// resources whose version the proxy does not have, and the names of those that are gone.
import { isFullStateType } from '../protos.js';
import type { XdsResource } from '../resource.js';
import type { DeltaDiscoveryRequest } from './messages.js';
import { AdsStream, PerType } from './stream.js';
import type { TypeState } from './type-state.js';

export class DeltaStream extends AdsStream<DeltaDiscoveryRequest> {
  readonly protocol = 'delta' as const;
  /** Per type: the version of each resource the proxy holds (from initial_resource_versions and what it was sent). */
  private readonly known = new PerType<string, string>();

  protected override handle(req: DeltaDiscoveryRequest, state: TypeState, isNew: boolean): void {
    const typeUrl = req.type_url;
    const known = this.known.of(typeUrl);
    if (isNew) for (const [name, version] of Object.entries(req.initial_resource_versions)) known.set(name, version);
    // The nonce only pairs an ACK/NACK with its response; subscription changes count whatever the nonce.
    if (req.response_nonce !== '') this.answered(state, req.response_nonce, req.error_detail);
    // A plain ACK changes no subscription, and everything the proxy knows of is still wanted: nothing to send.
    if (!isNew && req.resource_names_subscribe.length === 0 && req.resource_names_unsubscribe.length === 0) return;

    const subscribe = req.resource_names_subscribe;
    if (isNew) state.wildcard = subscribe.includes('*') || (subscribe.length === 0 && isFullStateType(typeUrl));
    else if (subscribe.includes('*')) state.wildcard = true;
    for (const name of subscribe) {
      if (name === '*') continue;
      state.subscribed.add(name);
      // Asking again for a name means "send it", even if it was sent before (not so for a reconnect's initial versions).
      if (!isNew) known.delete(name);
    }
    for (const name of req.resource_names_unsubscribe) {
      if (name === '*') state.wildcard = false;
      else state.subscribed.delete(name);
    }
    for (const name of [...known.keys(), ...req.resource_names_unsubscribe]) {
      if (state.wants(name)) continue;
      known.delete(name);
      state.forget(name);
    }
    // A namespace subscription (VHDS) is answered even when the namespace is empty: Envoy waits for that answer
    // before it uses the route configuration.
    const allOf = state.wildcard || state.namespaced;
    if (isNew) this.sendDiff(state, undefined, false, allOf);
    else if (subscribe.includes('*')) this.sendDiff(state, undefined, false, false);
    else if (state.namespaced && subscribe.length > 0) this.sendDiff(state, undefined, false, true);
    else if (subscribe.length > 0) this.sendDiff(state, subscribe, false, false);
  }

  protected override pushType(state: TypeState, changed: ReadonlySet<string>, holdBackRemovals: boolean): boolean {
    return this.sendDiff(state, changed, holdBackRemovals, false);
  }

  /**
   * Sends the resources among `names` (all the proxy wants when undefined) whose version the proxy lacks, and the
   * removal of those it holds that are gone. Returns true if removals were held back.
   */
  private sendDiff(state: TypeState, names: Iterable<string> | undefined, holdBackRemovals: boolean, evenIfEmpty: boolean): boolean {
    const typeUrl = state.typeUrl;
    const view = this.view!;
    const known = this.known.of(typeUrl);
    let resources: XdsResource[] = [];
    const removed: string[] = [];
    let heldBack = false;
    if (names === undefined && known.size === 0) {
      // A stream that holds nothing yet: all it wants, listed as wanted lists it (for the sidecars of a connect
      // storm, in the view's order, which a response copies in whole runs).
      resources = state.wanted(view);
    } else {
      let candidates: Iterable<string>;
      if (names !== undefined) candidates = names;
      else {
        const all = new Set<string>([...state.subscribed, ...known.keys()]);
        if (state.wildcard || state.namespaced) for (const r of view.all(typeUrl)) all.add(r.name);
        candidates = all;
      }
      for (const name of candidates) {
        if (!state.wants(name)) continue;
        const resource = view.get(typeUrl, name);
        if (resource) {
          if (known.get(name) !== resource.version) resources.push(resource);
        } else if (known.has(name)) {
          if (holdBackRemovals) heldBack = true;
          else removed.push(name);
        }
      }
    }
    if (resources.length === 0 && removed.length === 0 && !evenIfEmpty) return heldBack;
    const nonce = this.nextNonce();
    const version = view.version(typeUrl);
    this.sink.write(view.deltaResponse(typeUrl, resources, removed, nonce));
    for (const r of resources) known.set(r.name, r.version);
    for (const name of removed) known.delete(name);
    state.sent(nonce, { version, resources, removed });
    return heldBack;
  }
}
