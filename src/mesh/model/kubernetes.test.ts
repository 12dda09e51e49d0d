// Kubernetes Services and their EndpointSlices as mesh services: what the model builds from them, how a
// ServiceEntry takes precedence, and which hosts a change recomputes.
import { describe, expect, it } from '@jest/globals';
import type { MeshObjects } from '../lookup.js';
import { memoryInputs } from './inputs.js';
import type { EndpointSlice } from './kubernetes.js';
import { servicePortProtocol } from './protocol.js';
import { MeshModelStore } from './store.js';
import { destinationRule, endpointSlice, kubeService, serviceEntry, virtualService } from './testing.js';

const NS = 'shop';
const HOST = `reviews.${NS}.svc.cluster.local`;

function storeOf(objects: MeshObjects & { endpointSlices?: EndpointSlice[] }) {
  const store = new MeshModelStore(memoryInputs(objects));
  store.rebuildAll();
  return store;
}

const reviewsService = () =>
  kubeService('reviews', NS, [
    { name: 'grpc-api', port: 9080, targetPort: 'api' },
    { name: 'metrics', port: 9090, appProtocol: 'http' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ]);

describe('Kubernetes Services as mesh services', () => {
  it('declares <name>.<namespace>.svc.cluster.local with the ready endpoints of its EndpointSlices', () => {
    const slices = [
      endpointSlice('reviews-abc', NS, 'reviews', [{ name: 'grpc-api', port: 50051 }, { name: 'metrics', port: 9091 }], [
        { addresses: ['10.244.0.5'], conditions: { ready: true }, zone: 'zone-a' },
        { addresses: ['10.244.0.6'], conditions: { ready: false, serving: false } }, // not ready: no traffic
        { addresses: ['10.244.0.7'], conditions: { ready: false, serving: true, terminating: true } }, // draining
        { addresses: ['10.244.0.8'], conditions: { ready: false, serving: true, terminating: false } },
        { addresses: ['10.244.0.9'] }, // no conditions: ready
      ]),
      endpointSlice('other-xyz', NS, 'other', [{ name: 'grpc-api', port: 50051 }], ['10.244.1.1']),
    ];
    const store = storeOf({ services: [reviewsService()], endpointSlices: slices });
    const reviews = store.service(HOST)!;
    expect(reviews).toMatchObject({
      host: HOST,
      namespace: NS,
      // Istio's protocol selection: the name's prefix, appProtocol first; UDP is not proxied.
      ports: [
        { number: 9080, name: 'grpc-api', protocol: 'GRPC' },
        { number: 9090, name: 'metrics', protocol: 'HTTP' },
      ],
      addresses: ['10.96.0.10'],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      declaredBy: { kind: 'Service', namespace: NS, name: 'reviews' },
    });
    expect(reviews.endpoints.map((e) => [e.address, e.ports['grpc-api'], e.ports.metrics, e.locality, e.source.name])).toEqual([
      ['10.244.0.5', 50051, 9091, '/zone-a', 'reviews-abc'],
      ['10.244.0.8', 50051, 9091, undefined, 'reviews-abc'],
      ['10.244.0.9', 50051, 9091, undefined, 'reviews-abc'],
    ]);
    // Slices carry no Pod labels.
    expect(reviews.endpoints.every((e) => Object.keys(e.labels).length === 0)).toBe(true);
  });

  it('gives a headless Service endpoints but no address, and ExternalName Services are not mesh services', () => {
    const headless = kubeService('db', NS, [{ name: 'tcp', port: 5432 }], { clusterIP: 'None', clusterIPs: ['None'] });
    const external = kubeService('ext', NS, [{ name: 'http', port: 80 }], { type: 'ExternalName', externalName: 'example.com', clusterIP: undefined, clusterIPs: undefined });
    const store = storeOf({ services: [headless, external], endpointSlices: [endpointSlice('db-1', NS, 'db', [{ name: 'tcp', port: 5432 }], ['10.244.0.20'])] });
    expect(store.service(`db.${NS}.svc.cluster.local`)).toMatchObject({ addresses: [], ports: [{ number: 5432, protocol: 'TCP' }], endpoints: [{ address: '10.244.0.20' }] });
    expect(store.service(`ext.${NS}.svc.cluster.local`)).toBeUndefined();
  });

  it("takes an unnamed port's endpoints from the slice's unnamed port, and skips FQDN slices", () => {
    const svc = kubeService('reviews', NS, [{ port: 80, targetPort: 8080 }]);
    const slice = endpointSlice('reviews-1', NS, 'reviews', [{ port: 8080 }], ['10.244.0.5']);
    const fqdn = { ...endpointSlice('reviews-2', NS, 'reviews', [{ port: 8080 }], ['db.example.com']), addressType: 'FQDN' };
    const reviews = storeOf({ services: [svc], endpointSlices: [slice, fqdn] }).service(HOST)!;
    expect(reviews.ports).toEqual([{ number: 80, name: '', protocol: 'TCP' }]);
    expect(reviews.endpoints.map((e) => [e.address, e.ports['']])).toEqual([['10.244.0.5', 8080]]);
  });

  it('publishes not-ready endpoints when the Service asks for it', () => {
    const svc = kubeService('reviews', NS, [{ name: 'grpc', port: 9080 }], { publishNotReadyAddresses: true });
    const slice = endpointSlice('reviews-1', NS, 'reviews', [{ name: 'grpc', port: 9080 }], [{ addresses: ['10.244.0.6'], conditions: { ready: false } }]);
    expect(storeOf({ services: [svc], endpointSlices: [slice] }).service(HOST)!.endpoints.map((e) => e.address)).toEqual(['10.244.0.6']);
  });

  it('lets a ServiceEntry declaring the same host win over the Service', () => {
    const entry = serviceEntry('reviews-entry', NS, HOST, [{ number: 7000, name: 'grpc', protocol: 'GRPC' }], { endpoints: [{ address: '127.0.0.5' }], workloadSelector: undefined });
    const objects = { services: [reviewsService()], serviceEntries: [entry], endpointSlices: [endpointSlice('reviews-1', NS, 'reviews', [{ name: 'grpc-api', port: 50051 }], ['10.244.0.5'])] };
    const store = storeOf(objects);
    expect(store.service(HOST)).toMatchObject({ declaredBy: { kind: 'ServiceEntry', name: 'reviews-entry' }, ports: [{ number: 7000 }], endpoints: [{ address: '127.0.0.5' }] });

    // Deleting the entry hands the host back to the Service.
    objects.serviceEntries = [];
    store.recompute(store.hostsAffectedBy({ kind: 'ServiceEntry', obj: entry }));
    expect(store.service(HOST)).toMatchObject({ declaredBy: { kind: 'Service', name: 'reviews' }, endpoints: [{ address: '10.244.0.5' }] });
  });

  it('applies DestinationRules and VirtualServices as for a ServiceEntry; label subsets select no endpoint (no Pod labels)', () => {
    const objects = {
      services: [reviewsService(), kubeService('ratings', NS, [{ name: 'grpc', port: 9080 }])],
      endpointSlices: [endpointSlice('reviews-1', NS, 'reviews', [{ name: 'grpc-api', port: 50051 }], ['10.244.0.5'])],
      destinationRules: [destinationRule('reviews', NS, 'reviews', { trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }] })],
      virtualServices: [virtualService('reviews', NS, ['reviews'], [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }, { destination: { host: 'ratings' }, weight: 50 }] }])],
    };
    const store = storeOf(objects);
    const reviews = store.service(HOST)!;
    expect(reviews.policy?.subsets.map((s) => s.name)).toEqual(['v1']);
    expect(reviews.routing?.http[0]!.route!.map((d) => d.destination.host)).toEqual([HOST, `ratings.${NS}.svc.cluster.local`]);
    expect([...store.routedFrom(`ratings.${NS}.svc.cluster.local`)]).toEqual([HOST]);
  });

  it('recomputes only the Service host an EndpointSlice or Service change touches', () => {
    const slice = endpointSlice('reviews-1', NS, 'reviews', [{ name: 'grpc-api', port: 50051 }], ['10.244.0.5']);
    const objects = {
      services: [reviewsService(), kubeService('ratings', NS, [{ name: 'grpc', port: 9080 }])],
      endpointSlices: [slice, endpointSlice('ratings-1', NS, 'ratings', [{ name: 'grpc', port: 9080 }], ['10.244.0.9'])],
    };
    const store = storeOf(objects);
    const ratingsBefore = store.service(`ratings.${NS}.svc.cluster.local`);

    // A scale-up: the slice gains an endpoint.
    const scaled = endpointSlice('reviews-1', NS, 'reviews', [{ name: 'grpc-api', port: 50051 }], ['10.244.0.5', '10.244.0.6']);
    objects.endpointSlices = [scaled, objects.endpointSlices[1]!];
    const affected = store.hostsAffectedBy({ kind: 'EndpointSlice', obj: scaled });
    expect([...affected]).toEqual([HOST]);
    expect([...store.recompute(affected)]).toEqual([HOST]);
    expect(store.service(HOST)!.endpoints.map((e) => e.address)).toEqual(['10.244.0.5', '10.244.0.6']);
    expect(store.service(`ratings.${NS}.svc.cluster.local`)).toBe(ratingsBefore); // untouched, same object

    // A slice that loses its label still recomputes the host it fed (from what it contributed).
    const unlabelled = { ...scaled, metadata: { ...scaled.metadata, labels: {} } };
    objects.endpointSlices = [objects.endpointSlices[1]!];
    expect([...store.hostsAffectedBy({ kind: 'EndpointSlice', obj: unlabelled })]).toEqual([HOST]);
    store.recompute([HOST]);
    expect(store.service(HOST)!.endpoints).toEqual([]);

    // A Service's new port reaches the model; a deleted Service takes its host away.
    const moved = kubeService('reviews', NS, [{ name: 'grpc-api', port: 9081 }]);
    objects.services = [moved, objects.services[1]!];
    store.recompute(store.hostsAffectedBy({ kind: 'Service', obj: moved }));
    expect(store.service(HOST)!.ports.map((p) => p.number)).toEqual([9081]);
    objects.services = [objects.services[1]!];
    expect([...store.recompute(store.hostsAffectedBy({ kind: 'Service', obj: moved }))]).toEqual([HOST]);
    expect(store.service(HOST)).toBeUndefined();
  });

  it('re-validates VirtualServices routing to a Service when the Service comes and goes', () => {
    const vs = virtualService('front', NS, ['front'], [{ route: [{ destination: { host: 'reviews' } }] }]);
    const objects = { services: [kubeService('front', NS, [{ name: 'grpc', port: 9080 }])] as ReturnType<typeof kubeService>[], virtualServices: [vs] };
    const store = storeOf(objects);
    const front = `front.${NS}.svc.cluster.local`;
    expect(store.service(front)!.routing).toBeUndefined(); // reviews does not exist: not Accepted
    const reviews = reviewsService();
    objects.services.push(reviews);
    const affected = store.hostsAffectedBy({ kind: 'Service', obj: reviews });
    expect([...affected].sort()).toEqual([front, HOST]);
    store.recompute(affected);
    expect(store.service(front)!.routing?.source.name).toBe('front');
  });
});

describe("a Service port's protocol (Istio's protocol selection)", () => {
  it.each([
    [{ name: 'http' }, 'HTTP'],
    [{ name: 'http2-api' }, 'HTTP2'],
    [{ name: 'GRPC-api' }, 'GRPC'],
    [{ name: 'grpc-web' }, 'HTTP'],
    [{ name: 'https' }, 'HTTPS'],
    [{ name: 'tls-x' }, 'TLS'],
    [{ name: 'mongo' }, 'MONGO'],
    [{ name: 'redis' }, 'TCP'],
    [{ name: 'web' }, 'TCP'], // unrecognised: TCP
    [{}, 'TCP'],
    [{ name: 'http', appProtocol: 'grpc' }, 'GRPC'], // appProtocol first
    [{ name: 'grpc', appProtocol: 'custom.io/thing' }, 'TCP'], // and it does not fall back to the name
    [{ name: 'x', appProtocol: 'kubernetes.io/h2c' }, 'HTTP2'],
    [{ name: 'x', appProtocol: 'kubernetes.io/ws' }, 'HTTP'],
    [{ name: 'grpc', protocol: 'UDP' }, undefined],
  ])('%j is %s', (port, protocol) => {
    expect(servicePortProtocol(port)).toBe(protocol);
  });
});
