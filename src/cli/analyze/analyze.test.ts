import { describe, expect, it } from '@jest/globals';
import { analyze } from './analyze.js';
import { reachesThreshold, type Diagnostic } from './diagnostics.js';
import { add, emptySet } from './objects.js';
import { fieldPath } from './schema.js';

function setOf(...objects: object[]) {
  const set = emptySet();
  let t = 0;
  for (const o of objects) {
    const obj = o as { metadata: { creationTimestamp?: string } };
    obj.metadata.creationTimestamp ??= new Date(Date.UTC(2026, 0, 1, 0, 0, ++t)).toISOString();
    add(set, obj, 'test');
  }
  return set;
}
const brief = (d: Diagnostic) => `${d.code} ${d.kind} ${d.name} ${d.field ?? ''}`;

const service = (name: string, ns: string, selector: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector, ports: [{ name: 'grpc', port: 9080 }] } });
const namespace = (name: string, inject = false) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(inject ? { labels: { 'weft.dev/inject': 'enabled' } } : {}) } });
const strict = (ns: string) => ({ apiVersion: 'weft.dev/v1alpha1', kind: 'MeshPolicy', metadata: { name: 'strict', namespace: ns }, spec: { mtls: { mode: 'STRICT' } } });
const pod = (name: string, ns: string, containers: object[], extra: object = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, uid: `uid-${name}`, labels: { app: name } }, spec: { containers }, status: { phase: 'Running' }, ...extra });

describe('analyze', () => {
  it('writes JSON pointers as field paths', () => {
    expect(fieldPath('spec', '/http/0/headers/request/set/x-user~1id')).toBe('spec.http[0].headers.request.set["x-user/id"]');
  });

  it("says Istio's objects are Istio's, checks its networking kinds as ported, and names what Weft has for the others", () => {
    const istioRoute = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews', namespace: 'shop' }, spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v9' } }] }] } };
    const peer = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'shop' }, spec: { mtls: { mode: 'STRICT' } } };
    const list = analyze(setOf(service('reviews', 'shop', { app: 'reviews' }), istioRoute, peer));
    expect(list.map(brief)).toEqual([
      'WEFT0102 VirtualService reviews spec.http[0].route[0].destination.subset',
      'WEFT0005 PeerAuthentication default apiVersion',
      'WEFT0005 VirtualService reviews apiVersion',
    ]);
    expect(list[2]!.message).toBe("networking.istio.io/v1 VirtualService is Istio's: Weft does not read it. Port it by changing apiVersion to weft.dev/v1alpha1 (the other checks read it as ported)");
    expect(list[1]!.message).toContain("a MeshPolicy's mtls (weft.dev/v1alpha1) sets mTLS per namespace or workload");
  });

  it('reports a routing conflict on the newer VirtualService only, at the host it loses', () => {
    const vs = (name: string) => ({ apiVersion: 'weft.dev/v1alpha1', kind: 'VirtualService', metadata: { name, namespace: 'shop' }, spec: { hosts: ['other', 'ratings'], http: [{ route: [{ destination: { host: 'ratings' } }] }] } });
    const list = analyze(setOf(service('ratings', 'shop', { app: 'ratings' }), service('other', 'shop', { app: 'other' }), vs('first'), vs('second')));
    expect(list.filter((d) => d.severity !== 'Info').map(brief)).toEqual(['WEFT0201 VirtualService second spec.hosts[0]']);
  });

  it('flags injected-namespace Pods without the agent, but not opted-out ones, manifests not yet applied, or other namespaces', () => {
    const app = { name: 'app', image: 'app' };
    const list = analyze(setOf(
      namespace('shop', true),
      namespace('plain'),
      pod('old', 'shop', [app]),
      pod('injected', 'shop', [app, { name: 'weft-agent', image: 'weft' }]),
      { ...pod('opted-out', 'shop', [app]), metadata: { name: 'opted-out', namespace: 'shop', uid: 'u', labels: { 'sidecar.weft.dev/inject': 'false' } } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'to-apply', namespace: 'shop' }, spec: { containers: [app] } },
      pod('elsewhere', 'plain', [app]),
    ));
    expect(list.map(brief)).toEqual(['WEFT0301 Pod old spec.containers']);
  });

  it('warns at a STRICT policy when a workload without a sidecar names its service, not when the caller is injected', () => {
    const server = pod('ratings', 'shop', [{ name: 'ratings', image: 'r', ports: [] }, { name: 'weft-agent', image: 'weft' }]);
    const caller = (ns: string, value: string) => pod('caller', ns, [{ name: 'c', image: 'c', env: [{ name: 'TARGET', value }] }]);
    const base = [namespace('shop', true), namespace('legacy'), namespace('meshed', true), service('ratings', 'shop', { app: 'ratings' }), strict('shop'), server];
    const warned = analyze(setOf(...base, caller('legacy', 'dns:///ratings.shop.svc.cluster.local:9080')));
    expect(warned.map(brief)).toEqual(['WEFT0401 MeshPolicy strict spec.mtls.mode']);
    expect(warned[0]!.message).toContain('Pod legacy/caller has no sidecar and calls ratings.shop.svc.cluster.local (env TARGET of container c)');
    // A short name from another namespace is another service; an injected caller speaks mTLS.
    expect(analyze(setOf(...base, caller('legacy', 'ratings:9080')))).toEqual([]);
    expect(analyze(setOf(...base, { ...caller('meshed', 'ratings.shop:9080'), metadata: { name: 'caller', namespace: 'meshed', labels: {} }, status: {} }))).toEqual([]);
  });

  it('fails at the threshold or worse', () => {
    const info = [{ code: 'X', severity: 'Info', kind: 'K', name: 'n', message: '' }] as Diagnostic[];
    expect(reachesThreshold(info, 'Error')).toBe(false);
    expect(reachesThreshold(info, 'Info')).toBe(true);
  });
});
