import { describe, expect, it } from '@jest/globals';
import type { Gateway, ServiceEntry } from '../../api/index.js';
import { memoryInputs } from './inputs.js';
import { MeshModelStore } from './store.js';
import { edited, reviewsMesh, serviceEntry, virtualService, workloadEntry } from './testing.js';

function storeOf(m: ReturnType<typeof reviewsMesh>, extra: { serviceEntries?: ServiceEntry[]; gateways?: Gateway[] } = {}) {
  const objects = {
    gateways: extra.gateways ?? [],
    serviceAccounts: m.serviceAccounts,
    serviceEntries: [m.serviceEntry, ...(extra.serviceEntries ?? [])],
    workloadEntries: [m.v1, m.v2],
    destinationRules: [m.rule],
    virtualServices: [m.split],
  };
  const store = new MeshModelStore(memoryInputs(objects));
  store.rebuildAll();
  return { store, objects };
}

describe('the mesh model', () => {
  it('builds a service from its ServiceEntry, WorkloadEntries, DestinationRule and VirtualService', () => {
    const m = reviewsMesh();
    const { store } = storeOf(m);
    const reviews = store.service(m.host)!;
    expect(reviews).toMatchObject({ host: m.host, namespace: 'shop', ports: [{ number: 9080, name: 'grpc' }], location: 'MESH_INTERNAL' });
    expect(reviews.ports).toBe(m.serviceEntry.spec.ports); // already canonical: shared, not copied per service
    expect(reviews.endpoints.map((e) => [e.address, e.labels.version, e.ports.grpc, e.source.name])).toEqual([
      ['127.0.0.2', 'v1', 50051, 'reviews-v1'],
      ['127.0.0.3', 'v2', 50051, 'reviews-v2'],
    ]);
    expect(reviews.policy?.subsets.map((s) => s.name)).toEqual(['v1', 'v2']);
    // Destinations are qualified in the model, so generators never resolve short names.
    expect(reviews.routing?.http[0]!.route!.map((d) => d.destination)).toEqual([
      { host: m.host, subset: 'v1' },
      { host: m.host, subset: 'v2' },
    ]);
    expect([...store.routedFrom(m.host)]).toEqual([m.host]);
  });

  it("gives a ServiceEntry's ports the protocol Weft serves them as: Istio's names in any case", () => {
    const m = reviewsMesh();
    const ports = [
      { number: 9080, name: 'grpc', protocol: 'grpc' },
      { number: 8080, name: 'web', protocol: 'GRPC-Web' },
      { number: 3306, name: 'db', protocol: 'mysql' },
      { number: 9443, name: 'secure' },
      { number: 9444, name: 'SNIFFED', protocol: '' },
    ];
    const { store } = storeOf({ ...m, serviceEntry: { ...m.serviceEntry, spec: { ...m.serviceEntry.spec, ports } } });
    expect(store.service(m.host)!.ports).toEqual([
      { number: 9080, name: 'grpc', protocol: 'GRPC' },
      { number: 8080, name: 'web', protocol: 'HTTP' },
      { number: 3306, name: 'db', protocol: 'TCP' },
      { number: 9443, name: 'secure' },
      { number: 9444, name: 'SNIFFED' },
    ]);
  });

  it('leaves out resources that are not Accepted', () => {
    const m = reviewsMesh();
    m.split = virtualService('reviews', 'shop', ['reviews'], [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }] }]);
    m.serviceAccounts = []; // the WorkloadEntries' identity is missing
    const { store } = storeOf(m);
    expect(store.service(m.host)!.routing).toBeUndefined();
    expect(store.service(m.host)!.endpoints).toEqual([]);
  });

  it('keeps only the matches that apply to mesh proxies', () => {
    const m = reviewsMesh();
    m.split = virtualService('reviews', 'shop', ['reviews'], [
      { match: [{ gateways: ['edge'], uri: { prefix: '/a' } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
      { match: [{ headers: { 'x-user': { exact: 'canary' } } }, { sourceLabels: { app: 'web' } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
      { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    ]);
    const edge: Gateway = {
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'Gateway',
      metadata: { name: 'edge', namespace: 'shop' },
      spec: { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
    };
    const { store } = storeOf(m, { gateways: [edge] });
    const http = store.service(m.host)!.routing!.http;
    expect(http).toHaveLength(2);
    expect(http[0]!.match).toEqual([{ headers: { 'x-user': { exact: 'canary' } } }]);
  });

  it('recomputes only the hosts a change can affect', () => {
    const m = reviewsMesh();
    const ratings = serviceEntry('ratings', 'shop', 'ratings.shop.svc.cluster.local');
    const { store, objects } = storeOf(m, { serviceEntries: [ratings] });
    const ratingsBefore = store.service('ratings.shop.svc.cluster.local');

    const moved = edited(m.split, { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] });
    objects.virtualServices = [moved];
    const affected = store.hostsAffectedBy({ kind: 'VirtualService', obj: moved });
    expect([...affected]).toEqual([m.host]);
    expect([...store.recompute(affected)]).toEqual([m.host]);
    expect(store.service(m.host)!.routing!.source.generation).toBe(2);
    expect(store.service('ratings.shop.svc.cluster.local')).toBe(ratingsBefore); // untouched, same object

    // A deleted WorkloadEntry no longer selects anything, but the host it fed is still recomputed.
    objects.workloadEntries = [m.v1];
    expect([...store.hostsAffectedBy({ kind: 'WorkloadEntry', obj: m.v2 })]).toEqual([m.host]);
    store.recompute([m.host]);
    expect(store.service(m.host)!.endpoints.map((e) => e.address)).toEqual(['127.0.0.2']);

    // A new WorkloadEntry is found through the ServiceEntries that select it.
    const v3 = workloadEntry('reviews-v3', 'shop', '127.0.0.4', { app: 'reviews', version: 'v3' }, { serviceAccount: 'reviews' });
    objects.workloadEntries = [m.v1, v3];
    expect([...store.hostsAffectedBy({ kind: 'WorkloadEntry', obj: v3 })]).toEqual([m.host]);
  });

  it('re-evaluates VirtualServices routing to a host when its DestinationRule changes', () => {
    const m = reviewsMesh();
    const { store, objects } = storeOf(m);
    const onlyV1 = edited(m.rule, { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] });
    objects.destinationRules = [onlyV1];
    store.recompute(store.hostsAffectedBy({ kind: 'DestinationRule', obj: onlyV1 }));
    expect(store.service(m.host)!.routing).toBeUndefined(); // the split names v2, which is gone: not Accepted
  });
});
