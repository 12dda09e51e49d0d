// The proxyless generator: every resource passes the Envoy schema (with PGV rules) and grpc-js-xds's own
// decoders, and carries the traffic management of the VirtualService and DestinationRule.
import { describe, expect, it } from '@jest/globals';
import type { DestinationRule, VirtualService } from '../../api/index.js';
import { memoryInputs, MeshModelStore } from '../../mesh/model/index.js';
import { destinationRule, reviewsMesh, serviceEntry, virtualService, workloadEntry } from '../../mesh/model/testing.js';
import { checkMessage } from '../proto-check.js';
import { TypeUrl } from '../protos.js';
import { encodeResource, type ProtoMessage } from '../resource.js';
import { grpcDecode } from '../testing/grpc-validation.js';
import { proxylessResources } from './proxyless.js';
import type { Generated } from './types.js';

type Mesh = ReturnType<typeof reviewsMesh>;

function generate(m: Mesh, overrides: { split?: VirtualService; rule?: DestinationRule; extra?: object } = {}): Generated[] {
  const store = new MeshModelStore(
    memoryInputs({
      serviceAccounts: m.serviceAccounts,
      serviceEntries: [m.serviceEntry],
      workloadEntries: [m.v1, m.v2],
      destinationRules: [overrides.rule ?? m.rule],
      virtualServices: [overrides.split ?? m.split],
    }),
  );
  store.rebuildAll();
  return proxylessResources(store.service(m.host)!, store);
}

/** Every resource must be valid Envoy v3 and acceptable to the gRPC client. */
function expectValid(resources: Generated[]): void {
  for (const g of resources) {
    expect({ name: g.name, problems: checkMessage(g.typeUrl, g.message) }).toEqual({ name: g.name, problems: [] });
    const decoded = grpcDecode(encodeResource(g.typeUrl, g.name, g.message));
    expect({ name: g.name, error: decoded.error }).toEqual({ name: g.name, error: undefined });
  }
}

const find = (resources: Generated[], typeUrl: string, name: string): ProtoMessage => {
  const found = resources.find((r) => r.typeUrl === typeUrl && r.name === name);
  if (!found) throw new Error(`no ${typeUrl} ${name} among ${resources.map((r) => r.name).join(', ')}`);
  return found.message;
};
const routesOf = (resources: Generated[], name: string) =>
  (find(resources, TypeUrl.route, name).virtual_hosts as Array<{ routes: ProtoMessage[] }>)[0]!.routes;

describe('proxyless generator', () => {
  const m = reviewsMesh();
  const target = `${m.host}:9080`;
  const cluster = (subset = '') => `outbound|9080|${subset}|${m.host}`;

  it('makes an api_listener per host:port with RDS over ADS, and clusters per subset', () => {
    const resources = generate(m);
    expectValid(resources);
    expect(resources.map((r) => `${r.typeUrl.split('.').pop()} ${r.name}`)).toEqual([
      `Listener ${target}`,
      `RouteConfiguration ${target}`,
      `Cluster ${cluster()}`,
      `Cluster ${cluster('v1')}`,
      `Cluster ${cluster('v2')}`,
      `ClusterLoadAssignment ${cluster()}`,
      `ClusterLoadAssignment ${cluster('v1')}`,
      `ClusterLoadAssignment ${cluster('v2')}`,
      // The workloads' own server listeners (XdsServer), where mutual TLS and authorization apply.
      'Listener weft/grpc/lds/inbound/127.0.0.2:50051',
      'Listener weft/grpc/lds/inbound/127.0.0.3:50051',
    ]);
    expect(find(resources, TypeUrl.listener, target)).toMatchObject({
      api_listener: { api_listener: { rds: { route_config_name: target, config_source: { ads: {} } } } },
    });
  });

  it('splits by weight across subset clusters, whose endpoints are the subset labels selection', () => {
    const resources = generate(m);
    expect(routesOf(resources, target)).toEqual([
      {
        name: 'route-0',
        match: { prefix: '/' },
        route: { weighted_clusters: { clusters: [{ name: cluster('v1'), weight: { value: 80 } }, { name: cluster('v2'), weight: { value: 20 } }] } },
      },
    ]);
    const v2 = find(resources, TypeUrl.endpoint, cluster('v2')) as { endpoints: Array<{ lb_endpoints: ProtoMessage[] }> };
    expect(v2.endpoints[0]!.lb_endpoints).toEqual([
      { endpoint: { address: { socket_address: { address: '127.0.0.3', port_value: 50051 } } }, load_balancing_weight: { value: 1 }, health_status: 'HEALTHY' },
    ]);
    const all = find(resources, TypeUrl.endpoint, cluster()) as { endpoints: Array<{ lb_endpoints: ProtoMessage[] }> };
    expect(all.endpoints[0]!.lb_endpoints).toHaveLength(2);
  });

  it('routes on headers and path prefixes, with timeouts, retries (with backoff) and faults', () => {
    const split = virtualService('reviews', 'shop', ['reviews'], [
      {
        match: [{ headers: { 'x-user': { exact: 'canary' } } }],
        route: [{ destination: { host: 'reviews', subset: 'v2' } }],
        fault: { abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 50 } }, delay: { fixedDelay: '200ms' } },
      },
      {
        match: [{ uri: { prefix: '/weft.test.Echo/' }, method: { exact: 'POST' } }],
        route: [{ destination: { host: 'reviews', subset: 'v1' } }],
        timeout: '1.5s',
        retries: { attempts: 3, retryOn: 'unavailable,5xx', backoff: '250ms' },
      },
      { match: [{ queryParams: { a: { exact: 'b' } } }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    ]);
    const resources = generate(m, { split });
    expectValid(resources);
    const routes = routesOf(resources, target);
    expect(routes).toHaveLength(2); // gRPC has no query parameters: that route could never match
    expect(routes[0]).toEqual({
      name: 'route-0',
      match: { prefix: '/', headers: [{ name: 'x-user', string_match: { exact: 'canary' } }] },
      route: { cluster: cluster('v2') },
      typed_per_filter_config: {
        'envoy.filters.http.fault': {
          '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
          delay: { fixed_delay: { seconds: 0, nanos: 200_000_000 }, percentage: { numerator: 1_000_000, denominator: 'MILLION' } },
          abort: { grpc_status: 14, percentage: { numerator: 500_000, denominator: 'MILLION' } },
        },
      },
    });
    expect(routes[1]).toEqual({
      name: 'route-1',
      match: { prefix: '/weft.test.Echo/' }, // POST is every gRPC call's method
      route: { cluster: cluster('v1'), max_stream_duration: { max_stream_duration: { seconds: 1, nanos: 500_000_000 } }, retry_policy: {
          retry_on: 'unavailable',
          num_retries: { value: 3 },
          retry_back_off: { base_interval: { seconds: 0, nanos: 250_000_000 }, max_interval: { seconds: 2, nanos: 500_000_000 } },
        },
      },
    });
  });

  it("matches a header's presence and absence as Istio does: an empty match, or the header regex *", () => {
    const split = virtualService('reviews', 'shop', ['reviews'], [
      { match: [{ headers: { 'x-canary': {} }, method: {} }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
      { match: [{ headers: { 'x-debug': { regex: '*' }, 'x-any': { prefix: '' } }, withoutHeaders: { 'x-legacy': {} } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
      { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    ]);
    const resources = generate(m, { split });
    expectValid(resources);
    expect(routesOf(resources, target).map((r) => r.match)).toEqual([
      { prefix: '/', headers: [{ name: 'x-canary', present_match: true }] }, // an empty method match holds for every call
      // A prefix "" is taken by every value: a presence match too (Envoy would refuse an empty prefix matcher).
      { prefix: '/', headers: [{ name: 'x-debug', present_match: true }, { name: 'x-any', present_match: true }, { name: 'x-legacy', present_match: true, invert_match: true }] },
      { prefix: '/' },
    ]);
  });

  it("reads withoutHeaders as Istio (a missing header is empty) and pseudo-headers as a gRPC call carries them", () => {
    const split = virtualService('reviews', 'shop', ['reviews'], [
      // exact: gRPC's own inverted match already holds for a missing header.
      { match: [{ withoutHeaders: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
      // ".*" and an exact "" take the empty value: the header must be there.
      { match: [{ withoutHeaders: { 'x-a': { regex: '.*' }, 'x-b': { exact: '' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
      { match: [{ headers: { ':method': { exact: 'POST' }, ':authority': {} } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
      { match: [{ headers: { ':method': { exact: 'GET' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] }, // never a gRPC call: left out
      { match: [{ headers: { ':path': { prefix: '/x' } } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] }, // not told: left out
      { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    ]);
    const resources = generate(m, { split });
    expectValid(resources);
    expect(routesOf(resources, target).map((r) => r.match)).toEqual([
      { prefix: '/', headers: [{ name: 'end-user', string_match: { exact: 'jason' }, invert_match: true, treat_missing_header_as_empty: true }] },
      {
        prefix: '/',
        headers: [
          { name: 'x-a', string_match: { safe_regex: { regex: '.*' } }, invert_match: true, treat_missing_header_as_empty: true },
          { name: 'x-a', present_match: true },
          { name: 'x-b', string_match: { exact: '' }, invert_match: true, treat_missing_header_as_empty: true },
          { name: 'x-b', present_match: true },
        ],
      },
      { prefix: '/' },
      { prefix: '/' },
    ]);
  });

  it('routes between services by path prefix', () => {
    const ratings = serviceEntry('ratings', 'shop', 'ratings.shop.svc.cluster.local');
    const store = new MeshModelStore(
      memoryInputs({
        serviceAccounts: m.serviceAccounts,
        serviceEntries: [m.serviceEntry, ratings],
        workloadEntries: [m.v1, workloadEntry('ratings-1', 'shop', '127.0.0.9', { app: 'ratings' }, { serviceAccount: 'reviews' })],
        virtualServices: [
          virtualService('front', 'shop', ['reviews'], [
            { match: [{ uri: { prefix: '/ratings.' } }], route: [{ destination: { host: 'ratings' } }] },
            { route: [{ destination: { host: 'reviews' } }] },
          ]),
        ],
      }),
    );
    store.rebuildAll();
    const resources = proxylessResources(store.service(m.host)!, store);
    expect(routesOf(resources, target).map((r) => [r.match, r.route])).toEqual([
      [{ prefix: '/ratings.' }, { cluster: 'outbound|9080||ratings.shop.svc.cluster.local' }],
      [{ prefix: '/' }, { cluster: cluster() }],
    ]);
  });

  it('carries load balancing, circuit breakers and outlier detection, and hashes routes on the header', () => {
    const rule = destinationRule('reviews', 'shop', 'reviews', {
      trafficPolicy: {
        loadBalancer: { consistentHash: { httpHeaderName: 'x-session', ringHash: { minimumRingSize: 64 } } },
        connectionPool: { http: { http2MaxRequests: 7 } },
        outlierDetection: { consecutive5xxErrors: 3, interval: '1s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
      },
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } },
      ],
    });
    const resources = generate(m, { rule });
    expectValid(resources);
    expect(find(resources, TypeUrl.cluster, cluster())).toMatchObject({
      lb_policy: 'RING_HASH',
      ring_hash_lb_config: { hash_function: 'XX_HASH', minimum_ring_size: { value: 64 } },
      circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_requests: { value: 7 } }] },
      outlier_detection: {
        interval: { seconds: 1 },
        base_ejection_time: { seconds: 30 },
        max_ejection_percent: { value: 50 },
        enforcing_success_rate: { value: 0 },
        enforcing_failure_percentage: { value: 100 },
        failure_percentage_request_volume: { value: 3 },
      },
    });
    expect(find(resources, TypeUrl.cluster, cluster('v1'))).toMatchObject({ lb_policy: 'RING_HASH' }); // inherited from the rule
    expect(find(resources, TypeUrl.cluster, cluster('v2'))).toMatchObject({ lb_policy: 'ROUND_ROBIN' }); // gRPC has no least-request
    expect(routesOf(resources, target)[0]!.route).toMatchObject({ hash_policy: [{ header: { header_name: 'x-session' } }] });
  });

  it('passes Maglev through, and gRPC rejects it (the NACK then shows on the DestinationRule)', () => {
    const rule = destinationRule('reviews', 'shop', 'reviews', { trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x', maglev: {} } } } });
    const resources = generate(m, { rule, split: virtualService('r', 'shop', ['reviews'], [{ route: [{ destination: { host: 'reviews' } }] }]) });
    const c = resources.find((r) => r.name === cluster())!;
    expect(grpcDecode(encodeResource(c.typeUrl, c.name, c.message)).error).toMatch(/unsupported lb_policy: MAGLEV/);
    expect(c.sources.map((s) => s.kind)).toContain('DestinationRule');
  });

  it("reads Istio's deprecated fields as their replacements: fault.delay.percent, consistentHash.minimumRingSize", () => {
    const rule = destinationRule('reviews', 'shop', 'reviews', { trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x', minimumRingSize: 128 } } } });
    const split = virtualService('r', 'shop', ['reviews'], [{ route: [{ destination: { host: 'reviews' } }], fault: { delay: { fixedDelay: '1s', percent: 25 } } }]);
    const resources = generate(m, { rule, split });
    expectValid(resources);
    expect(find(resources, TypeUrl.cluster, cluster())).toMatchObject({ lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: { value: 128 } } });
    const fault = (routesOf(resources, target)[0]!.typed_per_filter_config as Record<string, ProtoMessage>)['envoy.filters.http.fault']!;
    expect(fault.delay).toEqual({ fixed_delay: { seconds: 1 }, percentage: { numerator: 250_000, denominator: 'MILLION' } });
  });

  it('names its sources: the route comes from the VirtualService, the endpoints from the WorkloadEntries', () => {
    const resources = generate(m);
    const route = resources.find((r) => r.typeUrl === TypeUrl.route)!;
    expect(route.sources.map((s) => `${s.kind}/${s.name}`).sort()).toEqual(['ServiceEntry/reviews', 'VirtualService/reviews']);
    const v1 = resources.find((r) => r.typeUrl === TypeUrl.endpoint && r.name === cluster('v1'))!;
    expect(v1.sources.map((s) => `${s.kind}/${s.name}`).sort()).toEqual(['DestinationRule/reviews', 'ServiceEntry/reviews', 'WorkloadEntry/reviews-v1']);
  });
});
