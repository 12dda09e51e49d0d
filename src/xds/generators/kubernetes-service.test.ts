// Generators on a host declared by a Kubernetes Service and its EndpointSlices: every resource passes the Envoy
// schema (with PGV rules) and, for proxyless, grpc-js-xds's own decoders; EDS carries the slices' ready addresses
// on the slice ports.
import { describe, expect, it } from '@jest/globals';
import { memoryInputs, MeshModelStore } from '../../mesh/model/index.js';
import { destinationRule, endpointSlice, kubeService, virtualService } from '../../mesh/model/testing.js';
import { checkMessage } from '../proto-check.js';
import { TypeUrl } from '../protos.js';
import { encodeResource, type ProtoMessage } from '../resource.js';
import { grpcDecode } from '../testing/grpc-validation.js';
import { envoyInboundResources, envoyPortResources, envoyServiceResources } from './envoy.js';
import { proxylessResources } from './proxyless.js';
import type { Generated } from './types.js';

const NS = 'shop';
const HOST = `reviews.${NS}.svc.cluster.local`;
const RATINGS = `ratings.${NS}.svc.cluster.local`;

function mesh(extra: { destinationRules?: ReturnType<typeof destinationRule>[]; virtualServices?: ReturnType<typeof virtualService>[] } = {}) {
  const store = new MeshModelStore(
    memoryInputs({
      services: [
        kubeService('reviews', NS, [{ name: 'grpc', port: 9080, targetPort: 50051 }, { name: 'tcp-db', port: 5432 }]),
        kubeService('ratings', NS, [{ name: 'grpc', port: 9080 }], { clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.11'] }),
      ],
      endpointSlices: [
        // The second endpoint's Pod does not serve the named db port: its slice lists grpc only.
        endpointSlice('reviews-a', NS, 'reviews', [{ name: 'grpc', port: 50051 }, { name: 'tcp-db', port: 5432 }], [{ addresses: ['10.244.0.5'], zone: 'zone-a' }, '10.244.0.6']),
        endpointSlice('reviews-b', NS, 'reviews', [{ name: 'grpc', port: 50052 }], ['10.244.0.7', { addresses: ['10.244.0.8'], conditions: { ready: false } }]),
        endpointSlice('ratings-a', NS, 'ratings', [{ name: 'grpc', port: 50051 }], ['10.244.1.1']),
      ],
      ...extra,
    }),
  );
  store.rebuildAll();
  return store;
}

function expectValid(resources: Generated[], proxyless: boolean): void {
  for (const g of resources) {
    expect({ name: g.name, problems: checkMessage(g.typeUrl, g.message) }).toEqual({ name: g.name, problems: [] });
    if (proxyless) {
      const decoded = grpcDecode(encodeResource(g.typeUrl, g.name, g.message));
      expect({ name: g.name, error: decoded.error }).toEqual({ name: g.name, error: undefined });
    }
  }
}

const find = (resources: Generated[], typeUrl: string, name: string): ProtoMessage => {
  const found = resources.find((r) => r.typeUrl === typeUrl && r.name === name);
  if (!found) throw new Error(`no ${typeUrl} ${name} among ${resources.map((r) => r.name).join(', ')}`);
  return found.message;
};

type Assignment = { endpoints: Array<{ locality: ProtoMessage; lb_endpoints: Array<{ endpoint: { address: { socket_address: { address: string; port_value: number } } } }> }> };
const addressesOf = (assignment: ProtoMessage) =>
  (assignment as Assignment).endpoints.flatMap((l) => l.lb_endpoints.map((e) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`)).sort();

describe('generators on a Kubernetes Service host', () => {
  it('gives proxyless clients a listener, routes, cluster and the slices ready endpoints on their slice ports', () => {
    const model = mesh();
    const resources = proxylessResources(model.service(HOST)!, model);
    expectValid(resources, true);
    expect(resources.filter((r) => r.typeUrl !== TypeUrl.listener || !r.name.includes('inbound')).map((r) => `${r.typeUrl.split('.').pop()} ${r.name}`)).toEqual([
      `Listener ${HOST}:9080`,
      `RouteConfiguration ${HOST}:9080`,
      `Cluster outbound|9080||${HOST}`,
      `Cluster outbound|5432||${HOST}`,
      `ClusterLoadAssignment outbound|9080||${HOST}`,
      `ClusterLoadAssignment outbound|5432||${HOST}`,
    ]);
    const grpcEndpoints = find(resources, TypeUrl.endpoint, `outbound|9080||${HOST}`);
    expect(addressesOf(grpcEndpoints)).toEqual(['10.244.0.5:50051', '10.244.0.6:50051', '10.244.0.7:50052']);
    expect((grpcEndpoints as Assignment).endpoints.map((l) => l.locality)).toEqual([
      { region: '', zone: 'zone-a', sub_zone: '' },
      { region: '', zone: '', sub_zone: '' },
    ]);
    // Only the endpoints whose slice lists the port serve it.
    expect(addressesOf(find(resources, TypeUrl.endpoint, `outbound|5432||${HOST}`))).toEqual(['10.244.0.5:5432', '10.244.0.6:5432']);
    const eds = resources.find((r) => r.name === `outbound|9080||${HOST}` && r.typeUrl === TypeUrl.endpoint)!;
    expect(eds.sources.map((s) => `${s.kind}/${s.name}`)).toEqual(['Service/reviews', 'EndpointSlice/reviews-a', 'EndpointSlice/reviews-b']);
  });

  it('splits by weight between two Services, and a label subset of a Service has no endpoints (no Pod labels)', () => {
    const model = mesh({
      destinationRules: [destinationRule('reviews', NS, 'reviews', { subsets: [{ name: 'v1', labels: { version: 'v1' } }] })],
      virtualServices: [virtualService('reviews', NS, ['reviews'], [{ route: [{ destination: { host: 'reviews' }, weight: 75 }, { destination: { host: 'ratings' }, weight: 25 }] }])],
    });
    const resources = proxylessResources(model.service(HOST)!, model);
    expectValid(resources, true);
    const routes = (find(resources, TypeUrl.route, `${HOST}:9080`).virtual_hosts as Array<{ routes: ProtoMessage[] }>)[0]!.routes;
    expect(routes[0]!.route).toEqual({
      weighted_clusters: { clusters: [{ name: `outbound|9080||${HOST}`, weight: { value: 75 } }, { name: `outbound|9080||${RATINGS}`, weight: { value: 25 } }] },
    });
    expect(addressesOf(find(resources, TypeUrl.endpoint, `outbound|9080|v1|${HOST}`))).toEqual([]);
  });

  it('gives Envoy sidecars the same endpoints, a virtual host with the Service short names, and TCP on the cluster IP', () => {
    const model = mesh();
    const { resources, virtualHosts } = envoyServiceResources(model.service(HOST)!, model);
    const all = [...resources, ...envoyPortResources(9080, virtualHosts), ...envoyInboundResources(['10.244.0.5'], model)];
    expectValid(all, false);
    expect(addressesOf(find(all, TypeUrl.endpoint, `outbound|9080||${HOST}`))).toEqual(['10.244.0.5:50051', '10.244.0.6:50051', '10.244.0.7:50052']);
    expect(find(all, TypeUrl.listener, '10.96.0.10_5432')).toMatchObject({ address: { socket_address: { address: '10.96.0.10', port_value: 5432 } } });
    expect(virtualHosts[0]!.message.domains).toEqual(expect.arrayContaining([HOST, 'reviews.shop', `reviews.shop:9080`]));
    // The Pod at 10.244.0.5 serves both ports, on the slice's target ports.
    expect(all.filter((r) => r.typeUrl === TypeUrl.cluster && r.name.startsWith('inbound|')).map((r) => r.name)).toEqual(['inbound|5432||', 'inbound|50051||']);
  });
});
