// Bad input never changes what is served: the model reads each object's served form (its last accepted generation
// while a newer one is not accepted), and competing objects are told apart by the oldest-wins rule.
import { describe, expect, it } from '@jest/globals';
import type { VirtualService } from '../../api/index.js';
import { memoryInputs } from './inputs.js';
import { conflictOf } from './conflicts.js';
import { MeshModelStore } from './store.js';
import { destinationRule, edited, reviewsMesh, serviceEntry, virtualService } from './testing.js';

/** `obj` as the reconciler leaves it once its current generation was accepted: status.lastAccepted holds its spec. */
function acceptedInStatus<T extends VirtualService>(obj: T): T {
  return { ...obj, status: { lastAccepted: { generation: obj.metadata.generation ?? 1, spec: obj.spec } } };
}

function meshWith(split: VirtualService, extra: { virtualServices?: VirtualService[] } = {}) {
  const m = reviewsMesh();
  const objects = {
    serviceAccounts: m.serviceAccounts,
    serviceEntries: [m.serviceEntry],
    workloadEntries: [m.v1, m.v2],
    destinationRules: [m.rule],
    virtualServices: [split, ...(extra.virtualServices ?? [])],
  };
  const inputs = memoryInputs(objects);
  const store = new MeshModelStore(inputs);
  store.rebuildAll();
  return { m, store, inputs, objects };
}

const weights = (store: MeshModelStore, host: string) =>
  store.service(host)!.routing?.http[0]!.route!.map((d) => [d.destination.subset, d.weight]);

describe('the served form of an object', () => {
  it('keeps the last accepted generation of a VirtualService whose update names a missing subset', () => {
    const m = reviewsMesh();
    const good = acceptedInStatus(m.split);
    const bad = edited(good, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v9' }, weight: 100 }] }] });
    const { store, inputs } = meshWith(bad);
    expect(weights(store, m.host)).toEqual([
      ['v1', 80],
      ['v2', 20],
    ]);
    // The routing comes from generation 1, the one accepted: status and sync state tell that generation.
    expect(store.service(m.host)!.routing!.source.generation).toBe(1);
    expect(inputs.served(bad)!.metadata.generation).toBe(1);
  });

  it('serves nothing of an object that was never accepted', () => {
    const m = reviewsMesh();
    const bad = virtualService('reviews', 'shop', ['reviews'], [{ route: [{ destination: { host: 'reviews', subset: 'v9' } }] }]);
    const { store } = meshWith(bad);
    expect(store.service(m.host)!.routing).toBeUndefined();
  });

  it('keeps the host a VirtualService routed for when its bad update moves it to another host', () => {
    const m = reviewsMesh();
    const good = acceptedInStatus(m.split);
    const moved = edited(good, { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'nowhere' } }] }] });
    const { store } = meshWith(moved);
    expect(store.service(m.host)!.routing?.source.name).toBe('reviews');
  });

  it('serves the newer generation once it is accepted', () => {
    const m = reviewsMesh();
    const good = acceptedInStatus(m.split);
    const fixed = edited(good, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] });
    const { store } = meshWith(fixed);
    expect(store.service(m.host)!.routing!.source.generation).toBe(2);
    expect(weights(store, m.host)).toEqual([['v2', undefined]]);
  });
});

describe('conflicts', () => {
  it('lets the oldest VirtualService route a host and names it to the newer one', () => {
    const m = reviewsMesh();
    const newer = virtualService('reviews-canary', 'shop', ['reviews'], [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }]);
    const { store, inputs } = meshWith(m.split, { virtualServices: [newer] });
    expect(store.service(m.host)!.routing!.source.name).toBe('reviews');
    expect(conflictOf(m.split, inputs)).toBeUndefined();
    expect(conflictOf(newer, inputs)).toMatchObject({ host: m.host, winner: 'shop/reviews' });
    expect(conflictOf(newer, inputs)!.message).toContain('VirtualService shop/reviews is older and already routes host reviews.shop.svc.cluster.local');
  });

  it('hands the host to the newer VirtualService when the older one goes', () => {
    const m = reviewsMesh();
    const newer = virtualService('reviews-canary', 'shop', ['reviews'], [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }]);
    const { store, inputs, objects } = meshWith(m.split, { virtualServices: [newer] });
    objects.virtualServices = [newer];
    store.recompute(store.hostsAffectedBy({ kind: 'VirtualService', obj: m.split }));
    expect(store.service(m.host)!.routing!.source.name).toBe('reviews-canary');
    expect(conflictOf(newer, inputs)).toBeUndefined();
  });

  it('names the older DestinationRule and ServiceEntry for a host', () => {
    const m = reviewsMesh();
    const rule = destinationRule('reviews-2', 'shop', 'reviews', { subsets: [{ name: 'v1', labels: { version: 'v1' } }] });
    const entry = serviceEntry('reviews-2', 'shop', m.host);
    const objects = { serviceAccounts: m.serviceAccounts, serviceEntries: [m.serviceEntry, entry], workloadEntries: [m.v1, m.v2], destinationRules: [m.rule, rule], virtualServices: [m.split] };
    const inputs = memoryInputs(objects);
    expect(conflictOf(rule, inputs)).toMatchObject({ host: m.host, winner: 'shop/reviews' });
    expect(conflictOf(entry, inputs)).toMatchObject({ host: m.host, winner: 'shop/reviews' });
    expect(conflictOf(m.rule, inputs)).toBeUndefined();
  });
});
