// Delegation as Istio merges it: the delegate's routes under the root's match, conflicting ones dropped, the root's
// settings filling the gaps; through the model (another namespace, exportTo, a missing delegate) into proxyless
// routes, and what a change to the delegate recomputes.
import { describe, expect, it } from '@jest/globals';
import type { HTTPRoute, VirtualService } from '../../api/index.js';
import { delegationCondition, mergeHTTPRoutes } from '../../mesh/delegation.js';
import { memoryInputs, MeshModelStore } from '../../mesh/model/index.js';
import { edited, reviewsMesh, virtualService } from '../../mesh/model/testing.js';
import { verdictOf } from '../../mesh/served.js';
import { memoryLookup } from '../../mesh/lookup.js';
import { qualifyHost } from '../../mesh/hosts.js';
import { proxylessResources } from './proxyless.js';
import { checkMessage } from '../proto-check.js';
import { TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';

describe('mergeHTTPRoutes (Istio mergeHTTPRoute)', () => {
  const root: HTTPRoute = { name: 'root', match: [{ uri: { prefix: '/weft.test.Echo/' } }], timeout: '2s', delegate: { name: 'd' } };

  it('combines matches, names and inherits what the delegate route leaves unset', () => {
    const merged = mergeHTTPRoutes(root, [
      { name: 'canary', match: [{ headers: { 'x-user': { exact: 'canary' } } }], route: [{ destination: { host: 'a' } }], timeout: '1s' },
      { route: [{ destination: { host: 'b' } }] },
    ]);
    expect(merged).toEqual([
      { name: 'root-canary', match: [{ uri: { prefix: '/weft.test.Echo/' }, headers: { 'x-user': { exact: 'canary' } } }], route: [{ destination: { host: 'a' } }], timeout: '1s' },
      { name: 'root', match: [{ uri: { prefix: '/weft.test.Echo/' } }], route: [{ destination: { host: 'b' } }], timeout: '2s' },
    ]);
  });

  it('drops a delegate route whose match is not within the root match (prefix outside, regex, another ignoreUriCase)', () => {
    const merged = mergeHTTPRoutes(root, [
      { name: 'inside', match: [{ uri: { exact: '/weft.test.Echo/Call' } }], route: [{ destination: { host: 'a' } }] },
      { name: 'outside', match: [{ uri: { prefix: '/weft.test.Other/' } }], route: [{ destination: { host: 'a' } }] },
      { name: 'regex', match: [{ uri: { regex: '/weft.*' } }], route: [{ destination: { host: 'a' } }] },
      { name: 'case', match: [{ uri: { prefix: '/weft.test.Echo/C' }, ignoreUriCase: true }], route: [{ destination: { host: 'a' } }] },
    ]);
    expect(merged.map((r) => r.name)).toEqual(['root-inside']);
    expect(merged[0]!.match).toEqual([{ uri: { exact: '/weft.test.Echo/Call' } }]);
  });
});

/** reviews in `shop` routed by a root whose /weft.test.Echo/ entry is delegated to `team/reviews-routes`. */
function delegationMesh(delegateSpec: Partial<VirtualService['spec']> = {}) {
  const m = reviewsMesh();
  const root = virtualService('reviews', 'shop', ['reviews'], [
    { match: [{ uri: { prefix: '/weft.test.Echo/' } }], delegate: { name: 'reviews-routes', namespace: 'team' } },
    { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
  ]);
  const delegate: VirtualService = {
    ...virtualService('reviews-routes', 'team', [], [
      { match: [{ headers: { 'x-user': { exact: 'canary' } } }], route: [{ destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v2' } }] },
      { route: [{ destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v1' } }] },
    ]),
  };
  delete (delegate.spec as { hosts?: string[] }).hosts;
  Object.assign(delegate.spec, delegateSpec);
  return { m, root, delegate };
}

function model(m: ReturnType<typeof reviewsMesh>, virtualServices: VirtualService[]) {
  const store = new MeshModelStore(
    memoryInputs({ serviceAccounts: m.serviceAccounts, serviceEntries: [m.serviceEntry], workloadEntries: [m.v1, m.v2], destinationRules: [m.rule], virtualServices }),
  );
  store.rebuildAll();
  return store;
}

const routesOf = (store: MeshModelStore, host: string) => {
  const resources = proxylessResources(store.service(host)!, store);
  const rds = resources.find((r) => r.typeUrl === TypeUrl.route)!;
  expect(checkMessage(rds.typeUrl, rds.message)).toEqual([]);
  return { routes: (rds.message.virtual_hosts as Array<{ routes: ProtoMessage[] }>)[0]!.routes, sources: rds.sources };
};

describe('delegation through the model', () => {
  it("merges a delegate of another namespace into the root's routes, qualified in the delegate's namespace", () => {
    const { m, root, delegate } = delegationMesh();
    const store = model(m, [root, delegate]);
    const { routes, sources } = routesOf(store, m.host);
    const cluster = (subset: string) => `outbound|9080|${subset}|${m.host}`;
    expect(routes.map((r) => [r.match, (r.route as ProtoMessage).cluster])).toEqual([
      [{ prefix: '/weft.test.Echo/', headers: [{ name: 'x-user', string_match: { exact: 'canary' } }] }, cluster('v2')],
      [{ prefix: '/weft.test.Echo/' }, cluster('v1')],
      [{ prefix: '/' }, cluster('v1')],
    ]);
    // The routes come from the delegate too: its status is Programmed by them.
    expect(sources.map((s) => `${s.kind}/${s.namespace}/${s.name}`)).toContain('VirtualService/team/reviews-routes');
    expect(store.service(m.host)!.routing!.delegates).toEqual([expect.objectContaining({ namespace: 'team', name: 'reviews-routes' })]);
  });

  it('a missing or unexported delegate gives its entry no routes; the root says which in ResolvedRefs', () => {
    const { m, root, delegate } = delegationMesh({ exportTo: ['.'] });
    for (const vss of [[root], [root, delegate]]) {
      const store = model(m, vss);
      expect(routesOf(store, m.host).routes.map((r) => r.match)).toEqual([{ prefix: '/' }]);
    }
    const lookup = memoryLookup({ virtualServices: [root] }, qualifyHost);
    const find = (ns: string, name: string) => {
      const d = lookup.virtualService(ns, name);
      return { exists: d !== undefined, ...(d ? { served: d } : {}) };
    };
    expect(delegationCondition(root, find)).toEqual({
      type: 'ResolvedRefs',
      status: 'False',
      reason: 'DelegateNotFound',
      message: 'spec.http[0].delegate: delegate VirtualService team/reviews-routes not found: the route has no routes until it exists',
    });
    const withUnexported = memoryLookup({ virtualServices: [root, delegate] }, qualifyHost);
    expect(
      delegationCondition(root, (ns, name) => {
        const d = withUnexported.virtualService(ns, name);
        return { exists: d !== undefined, ...(d ? { served: d } : {}) };
      }),
    ).toMatchObject({ status: 'False', reason: 'DelegateNotExported' });
  });

  it("a change to the delegate alone recomputes the root's host, and the delegate's status names the root", () => {
    const { m, root, delegate } = delegationMesh();
    const store = model(m, [root, delegate]);
    expect(store.hostsAffectedBy({ kind: 'VirtualService', obj: delegate })).toEqual(new Set([m.host]));
    const changed = edited(delegate, { http: [{ route: [{ destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v2' } }] }] });
    const after = model(m, [root, changed]);
    expect(routesOf(after, m.host).routes.map((r) => (r.route as ProtoMessage).cluster)).toEqual([`outbound|9080|v2|${m.host}`, `outbound|9080|v1|${m.host}`]);

    const lookup = memoryLookup({ virtualServices: [root, delegate], serviceEntries: [m.serviceEntry], destinationRules: [m.rule] }, qualifyHost);
    expect(verdictOf(delegate, lookup)).toMatchObject({ accepted: true, message: expect.stringContaining('used by VirtualService shop/reviews (spec.http[0].delegate)') });
    const alone = memoryLookup({ virtualServices: [delegate], serviceEntries: [m.serviceEntry], destinationRules: [m.rule] }, qualifyHost);
    expect(verdictOf(delegate, alone)).toMatchObject({ accepted: true, message: expect.stringContaining('not used') });
  });

  it('a delegate is never a routing VirtualService of its own, and its routes cannot delegate again', () => {
    const { m, root, delegate } = delegationMesh();
    const nested = edited(delegate, { http: [{ delegate: { name: 'other' } }, ...(delegate.spec.http ?? [])] });
    const store = model(m, [root, nested]);
    expect(routesOf(store, m.host).routes).toHaveLength(3); // the nested delegate entry is ignored
  });
});
