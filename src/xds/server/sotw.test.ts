// The SotW fast path for ACKs: a request that repeats the subscription (names in any order, duplicates, the
// legacy wildcard) is recognised; any other change goes the full way.
import { describe, expect, it } from '@jest/globals';
import { TypeUrl } from '../protos.js';
import { sameSubscription } from './sotw.js';
import { TypeState } from './type-state.js';

function state(typeUrl: string, names: string[], wildcard = false): TypeState {
  const s = new TypeState(typeUrl);
  for (const n of names) s.subscribed.add(n);
  s.wildcard = wildcard;
  return s;
}

describe('sameSubscription', () => {
  it('recognises a repeat of the named subscription, whatever the order or repeats', () => {
    const s = state(TypeUrl.route, ['a', 'b']);
    expect(sameSubscription(s, ['b', 'a'], false)).toBe(true);
    expect(sameSubscription(s, ['a', 'b', 'a'], false)).toBe(true);
  });

  it('sees names added, dropped or swapped', () => {
    const s = state(TypeUrl.route, ['a', 'b']);
    expect(sameSubscription(s, ['a'], false)).toBe(false);
    expect(sameSubscription(s, ['a', 'b', 'c'], false)).toBe(false);
    expect(sameSubscription(s, ['a', 'c'], false)).toBe(false);
    expect(sameSubscription(s, ['a', 'a'], false)).toBe(false);
  });

  it('follows the wildcard of full-state types: empty names keep it, `*` asks for it, names alone end it', () => {
    const wild = state(TypeUrl.listener, [], true);
    expect(sameSubscription(wild, [], true)).toBe(true);
    expect(sameSubscription(wild, ['*'], true)).toBe(true);
    expect(sameSubscription(wild, ['l1'], true)).toBe(false);
    expect(sameSubscription(state(TypeUrl.listener, ['l1']), ['*', 'l1'], true)).toBe(false);
    expect(sameSubscription(state(TypeUrl.listener, ['l1'], true), ['*', 'l1'], true)).toBe(true);
  });
});
