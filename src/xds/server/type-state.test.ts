// What a stream remembers a proxy accepted, one type: ACKs of whole and partial responses, removals, NACKs and
// unsubscriptions, in any number, add up to the proxy's holdings, and holdsAll answers from them.
import { describe, expect, it } from '@jest/globals';
import { ResourceCache } from '../cache.js';
import { TypeUrl } from '../protos.js';
import { encodeResource, type XdsResource } from '../resource.js';
import { Subscription, TypeState } from './type-state.js';

const route = (name: string, cluster = 'a') => encodeResource(TypeUrl.route, name, { name, virtual_hosts: [{ name, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] });

function setUp(names: string[]) {
  const cache = new ResourceCache();
  const collection = cache.collection('mesh');
  collection.apply({ upsert: names.map((n) => route(n)) });
  const { view } = cache.acquireView(['mesh']);
  const state = new TypeState(TypeUrl.route);
  for (const n of names) state.subscribed.add(n);
  let nonce = 0;
  /** Sends `resources` (and removals) and has the proxy answer. */
  const exchange = (resources: XdsResource[], answer: 'ack' | string = 'ack', removed: string[] = [], whole = false) => {
    const n = String(++nonce);
    state.sent(n, { version: view.version(TypeUrl.route), resources, removed, whole });
    state.answered(n, answer === 'ack' ? undefined : { code: 3, message: answer });
  };
  const current = (name: string) => view.get(TypeUrl.route, name)!;
  return { collection, view, state, exchange, current };
}

describe('TypeState', () => {
  it('lists what the proxy wants anew when its subscription or the served config moves', () => {
    const { collection, view, state } = setUp(['a', 'b']);
    collection.apply({ upsert: [route('c')] });
    const names = () => state.wanted(view).map((r) => r.name);
    expect(names()).toEqual(['a', 'b']);
    state.subscribed.add('c');
    expect(names()).toEqual(['a', 'b', 'c']);
    state.subscribed.delete('a');
    expect(names()).toEqual(['b', 'c']);
    collection.apply({ upsert: [route('b', 'other')] });
    expect(state.wanted(view).find((r) => r.name === 'b')).toBe(view.get(TypeUrl.route, 'b'));
    state.subscribed.clear();
    expect(names()).toEqual([]);
    state.wildcard = true;
    expect(names()).toEqual(['a', 'b', 'c']);
    // A list in the view's order (a wildcard, or a large subscription) is kept while nothing moves.
    const whole = state.wanted(view);
    expect(state.wanted(view)).toBe(whole);
    collection.apply({ upsert: [route('d')] });
    expect(names()).toEqual(['a', 'b', 'c', 'd']);
    state.wildcard = false;
    expect(names()).toEqual([]);
  });

  it('adds up many partial responses, each ACKed, into what the proxy holds', () => {
    const names = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const { view, state, exchange, current } = setUp(names);
    for (const n of names) exchange([current(n)]);
    expect([...state.acked.keys()].sort()).toEqual([...names].sort());
    expect(state.holdsAll(view)).toBe(true);
  });

  it('tells a proxy that misses one resource from one that holds them all', () => {
    const { view, state, exchange, current } = setUp(['a', 'b', 'c']);
    exchange([current('a'), current('b')]);
    expect(state.holdsAll(view)).toBe(false);
    exchange([current('c')]);
    state.revision++; // a request moves it; holdsAll's memo stands until then
    expect(state.holdsAll(view)).toBe(true);
  });

  it('sees a newer version of a held resource as not held until it is ACKed', () => {
    const { collection, view, state, exchange, current } = setUp(['a', 'b']);
    exchange([current('a'), current('b')]);
    expect(state.holdsAll(view)).toBe(true);
    collection.apply({ upsert: [route('b', 'z')] });
    expect(state.holdsAll(view)).toBe(false);
    exchange([current('b')]);
    state.revision++;
    expect(state.holdsAll(view)).toBe(true);
    expect(state.acked.get('b')).toBe(current('b'));
  });

  it('drops removed and unsubscribed names, and keeps what a NACK did not touch', () => {
    const { collection, state, exchange, current } = setUp(['a', 'b', 'c']);
    exchange([current('a'), current('b'), current('c')]);
    exchange([], 'ack', ['c']);
    state.subscribed.delete('b');
    state.forget('b');
    expect([...state.acked.keys()]).toEqual(['a']);
    const held = current('a');
    collection.apply({ upsert: [route('a', 'broken')] });
    exchange([current('a')], 'Error adding/updating route(s) a: bad');
    expect(state.acked.get('a')).toBe(held);
    expect(state.rejected.get('a')?.error).toContain('bad');
  });

  it('holds exactly a whole-set response once ACKed, and indexes it when asked', () => {
    const { collection, view, state, exchange, current } = setUp(['alpha', 'beta', 'gamma']);
    exchange([current('alpha'), current('beta'), current('gamma')], 'ack', [], true);
    expect(state.holdsAll(view)).toBe(true);
    expect(state.acked.get('beta')).toBe(current('beta'));
    // The next whole set leaves 'gamma' out: the proxy deletes it.
    exchange([current('alpha'), current('beta')], 'ack', ['gamma'], true);
    expect([...state.acked.keys()]).toEqual(['alpha', 'beta']);
    state.revision++;
    expect(state.holdsAll(view)).toBe(false); // 'gamma' is still subscribed and served
    state.subscribed.delete('gamma');
    state.forget('gamma');
    expect(state.holdsAll(view)).toBe(true);
    // A NACKed whole set: what it did not blame was applied.
    const heldAlpha = current('alpha');
    collection.apply({ upsert: [route('alpha', 'x'), route('beta', 'broken')] });
    exchange([current('alpha'), current('beta')], 'Error adding/updating route(s) beta: bad', [], true);
    expect(state.acked.get('alpha')).toBe(current('alpha'));
    expect(state.acked.get('alpha')).not.toBe(heldAlpha);
    expect(state.rejected.get('beta')?.error).toContain('bad');
    state.forget('alpha');
    expect([...state.acked.keys()]).toEqual(['beta']);
  });
});

describe('Subscription', () => {
  it('shares an adopted set until it changes, then changes a copy; a snapshot stays as it was', () => {
    const list = new Set(['a', 'b']);
    const one = new Subscription();
    const other = new Subscription();
    one.adopt(list);
    other.adopt(list);
    expect(one.revision).toBe(1);
    const before = one.current();
    one.add('c');
    other.delete('a');
    expect([...one]).toEqual(['a', 'b', 'c']);
    expect([...other]).toEqual(['b']);
    expect([...list]).toEqual(['a', 'b']); // what the view keeps for the next stream sending the list
    expect([...before]).toEqual(['a', 'b']);
    expect(one.revision).toBe(2);
    const snapshot = one.current();
    one.add('d'); // its own set now, but handed out: copied again
    expect([...snapshot]).toEqual(['a', 'b', 'c']);
    one.add('d');
    one.delete('x');
    expect(one.revision).toBe(3); // only changes move it
    one.clear();
    expect([one.size, one.has('a'), one.revision]).toEqual([0, false, 4]);
  });
});
