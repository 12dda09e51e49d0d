// The Envoy sidecar generator on the sample mesh (config/samples): every resource is valid Envoy v3 (schema,
// nested typed configs, PGV rules) and survives an encode/decode round trip through the real protos.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { AnyMeshObject, DestinationRule, ServiceEntry, TrafficPolicy, VirtualService, WorkloadEntry } from '../../api/index.js';
import { memoryInputs, MeshModelStore } from '../../mesh/model/index.js';
import type { ServiceAccount } from '../../mesh/dependencies.js';
import { checkMessage } from '../proto-check.js';
import { messageType, TypeUrl } from '../protos.js';
import { encodeResource, type ProtoMessage } from '../resource.js';
import { envoyInboundResources, envoyPortResources, envoyServiceResources, envoyStaticResources, envoyVhdsRoutes, envoyVirtualHost } from './envoy.js';
import { proxylessResources } from './proxyless.js';
import type { Generated } from './types.js';

const samplesDir = join(import.meta.dirname, '..', '..', '..', 'config', 'samples');

function sampleMesh() {
  const docs = readdirSync(samplesDir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => YAML.parseAllDocuments(readFileSync(join(samplesDir, f), 'utf8')).map((d) => d.toJS() as { kind: string }));
  const of = <T>(kind: string) => docs.filter((d) => d.kind === kind) as T[];
  const objects = {
    serviceAccounts: of<ServiceAccount>('ServiceAccount'),
    serviceEntries: of<ServiceEntry>('ServiceEntry'),
    workloadEntries: of<WorkloadEntry>('WorkloadEntry'),
    destinationRules: of<DestinationRule>('DestinationRule'),
    virtualServices: of<VirtualService>('VirtualService'),
    gateways: of<AnyMeshObject & { kind: 'Gateway' }>('Gateway'),
  };
  const store = new MeshModelStore(memoryInputs(objects));
  store.rebuildAll();
  return store;
}

function envoyConfig(): Generated[] {
  const model = sampleMesh();
  const out: Generated[] = [...envoyStaticResources()];
  const byPort = new Map<number, ReturnType<typeof envoyServiceResources>['virtualHosts']>();
  for (const service of model.services()) {
    const { resources, virtualHosts } = envoyServiceResources(service, model);
    out.push(...resources);
    for (const v of virtualHosts) byPort.set(v.port, [...(byPort.get(v.port) ?? []), v]);
  }
  for (const [port, vhosts] of byPort) out.push(...envoyPortResources(port, vhosts));
  out.push(...envoyInboundResources(['127.0.0.2'], model)); // the sidecar of reviews-v1
  return out;
}

describe('Envoy sidecar generator, on config/samples', () => {
  const resources = envoyConfig();

  it('makes the capture listeners, a listener and routes per port, clusters per subset, and the inbound side', () => {
    expect(resources.map((r) => `${r.typeUrl.split('.').pop()} ${r.name}`).sort()).toEqual(
      [
        'Listener virtualOutbound',
        'Cluster PassthroughCluster',
        'Cluster BlackHoleCluster',
        'Cluster outbound|9080||reviews.weft-demo.svc.cluster.local',
        'Cluster outbound|9080|v1|reviews.weft-demo.svc.cluster.local',
        'Cluster outbound|9080|v2|reviews.weft-demo.svc.cluster.local',
        'ClusterLoadAssignment outbound|9080||reviews.weft-demo.svc.cluster.local',
        'ClusterLoadAssignment outbound|9080|v1|reviews.weft-demo.svc.cluster.local',
        'ClusterLoadAssignment outbound|9080|v2|reviews.weft-demo.svc.cluster.local',
        'Listener 0.0.0.0_9080',
        'RouteConfiguration 9080',
        'Cluster inbound|9080||',
        'Listener virtualInbound',
        'Secret default',
        'Secret ROOTCA',
      ].sort(),
    );
  });

  it('produces only valid Envoy v3 that decodes with the real protos', () => {
    for (const g of resources) {
      expect({ name: g.name, problems: checkMessage(g.typeUrl, g.message) }).toEqual({ name: g.name, problems: [] });
      const encoded = encodeResource(g.typeUrl, g.name, g.message);
      const type = messageType(g.typeUrl);
      const anyType = messageType('google.protobuf.Any');
      const any = anyType.decode(encoded.any) as unknown as { type_url: string; value: Uint8Array };
      expect(any.type_url).toBe(g.typeUrl);
      const decoded = type.decode(any.value);
      // Lossless: re-encoding what was decoded gives the same bytes.
      expect(Buffer.from(type.encode(decoded).finish()).equals(Buffer.from(any.value))).toBe(true);
    }
  });

  it('makes valid VHDS config for sidecars on delta xDS: a route configuration without virtual hosts, each as its own resource', () => {
    const model = sampleMesh();
    const vhds: Generated[] = [];
    for (const service of model.services()) {
      for (const v of envoyServiceResources(service, model).virtualHosts) vhds.push(envoyVhdsRoutes(v.port), envoyVirtualHost(v));
    }
    expect(vhds.map((g) => `${g.typeUrl.split('.').pop()} ${g.name}`)).toEqual(['RouteConfiguration 9080', 'VirtualHost 9080/reviews.weft-demo.svc.cluster.local']);
    for (const g of vhds) {
      expect({ name: g.name, problems: checkMessage(g.typeUrl, g.message) }).toEqual({ name: g.name, problems: [] });
      const type = messageType(g.typeUrl);
      const any = messageType('google.protobuf.Any').decode(encodeResource(g.typeUrl, g.name, g.message).any) as unknown as { value: Uint8Array };
      expect(Buffer.from(type.encode(type.decode(any.value)).finish()).equals(Buffer.from(any.value))).toBe(true);
    }
    // The virtual host's routes are the inline form's, byte for byte.
    const inline = resources.find((r) => r.typeUrl === TypeUrl.route)!.message as { virtual_hosts: ProtoMessage[] };
    expect(vhds[1]!.message).toEqual(inline.virtual_hosts[0]);
  });

  it('carries the sample traffic policy: the 80/20 split, least request for v2, breakers and outlier detection', () => {
    const routes = resources.find((r) => r.typeUrl === TypeUrl.route)!.message as { virtual_hosts: Array<{ domains: string[]; routes: ProtoMessage[] }> };
    const vhost = routes.virtual_hosts[0]!;
    expect(vhost.domains).toContain('reviews.weft-demo.svc.cluster.local:9080');
    expect(vhost.domains).toContain('reviews.weft-demo');
    expect(JSON.stringify(vhost.routes)).toContain('"weight":{"value":80}');
    const v2 = resources.find((r) => r.name === 'outbound|9080|v2|reviews.weft-demo.svc.cluster.local' && r.typeUrl === TypeUrl.cluster)!.message;
    expect(v2).toMatchObject({
      lb_policy: 'LEAST_REQUEST',
      circuit_breakers: { thresholds: [{ max_connections: { value: 100 }, max_requests: { value: 1000 }, max_retries: { value: 3 } }] },
      outlier_detection: { consecutive_5xx: { value: 5 }, interval: { seconds: 10 }, base_ejection_time: { seconds: 30 } },
      typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { explicit_http_config: { http2_protocol_options: {} } } },
    });
  });

  it("applies Istio's connection settings: keepalives, idle timeouts, the panic threshold, the retry budget, the HTTP/2 upgrade", () => {
    const model = sampleMesh();
    const reviews = model.service('reviews.weft-demo.svc.cluster.local')!;
    const clusterOf = (trafficPolicy: TrafficPolicy, port = reviews.ports[0]!) => {
      const service = { ...reviews, ports: [port], policy: { ...reviews.policy!, subsets: [], trafficPolicy } };
      const generated = envoyServiceResources(service, model).resources.find((r) => r.typeUrl === TypeUrl.cluster)!;
      expect(checkMessage(TypeUrl.cluster, generated.message)).toEqual([]);
      return generated.message as ProtoMessage & { typed_extension_protocol_options?: Record<string, ProtoMessage> };
    };
    const options = (c: ReturnType<typeof clusterOf>) => c.typed_extension_protocol_options?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];

    const grpc = clusterOf({
      connectionPool: {
        tcp: { idleTimeout: '1h', tcpKeepalive: { probes: 3, time: '7200s', interval: '75.5s' } },
        http: { http2KeepAlive: { interval: '30s', timeout: '5s' } },
      },
      outlierDetection: { consecutive5xxErrors: 5 },
      retryBudget: { percent: 25 },
    });
    expect(grpc).toMatchObject({
      upstream_connection_options: { tcp_keepalive: { keepalive_probes: { value: 3 }, keepalive_time: { value: 7200 }, keepalive_interval: { value: 75 } } },
      // Without minHealthPercent no panic routing, as Istio: Envoy's own default would be 50%.
      common_lb_config: { healthy_panic_threshold: { value: 0 } },
      circuit_breakers: { thresholds: [{ retry_budget: { budget_percent: { value: 25 }, min_retry_concurrency: { value: 3 } } }] },
    });
    expect(options(grpc)).toMatchObject({
      explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: { seconds: 30 }, timeout: { seconds: 5 } } } },
      common_http_protocol_options: { idle_timeout: { seconds: 3600 } }, // the TCP idle timeout, no HTTP one being set
    });
    expect(clusterOf({ outlierDetection: { minHealthPercent: 40 } }).common_lb_config).toEqual({ healthy_panic_threshold: { value: 40 } });

    const http = { ...reviews.ports[0]!, protocol: 'HTTP' as const };
    expect(options(clusterOf({}, http))).toBeUndefined(); // HTTP/1.1 upstream, Envoy's default
    expect(options(clusterOf({ connectionPool: { http: { h2UpgradePolicy: 'UPGRADE' } } }, http))).toMatchObject({ explicit_http_config: { http2_protocol_options: {} } });
    expect(options(clusterOf({ connectionPool: { http: { useClientProtocol: true, h2UpgradePolicy: 'UPGRADE' } } }, http))).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
    });
  });

  it("bounds a TCP proxy by the rule's idle timeout and connection lifetime", () => {
    const model = sampleMesh();
    const reviews = model.service('reviews.weft-demo.svc.cluster.local')!;
    const trafficPolicy: TrafficPolicy = { connectionPool: { tcp: { idleTimeout: '10m', maxConnectionDuration: '1h' } } };
    const service = { ...reviews, addresses: ['10.96.0.20'], ports: [{ ...reviews.ports[0]!, protocol: 'TCP' as const }], policy: { ...reviews.policy!, trafficPolicy } };
    const listener = envoyServiceResources(service, model).resources.find((r) => r.typeUrl === TypeUrl.listener)!;
    expect(checkMessage(TypeUrl.listener, listener.message)).toEqual([]);
    expect(JSON.stringify(listener.message)).toContain('"idle_timeout":{"seconds":600},"max_downstream_connection_duration":{"seconds":3600}');
    expect(listener.sources).toContainEqual(reviews.policy!.source); // the rule shows the proxies' sync for it
  });

  it('mirrors, redirects and answers directly for Envoy', () => {
    const model = sampleMesh();
    const reviews = model.service('reviews.weft-demo.svc.cluster.local')!;
    const service = {
      ...reviews,
      routing: {
        source: reviews.routing!.source,
        tcp: [],
        http: [
          { match: [{ uri: { prefix: '/old' } }], redirect: { uri: '/new', redirectCode: 308 as const } },
          { match: [{ uri: { exact: '/health' } }], directResponse: { status: 200, body: { string: 'ok' } } },
          { route: [{ destination: { host: reviews.host, subset: 'v1' } }], mirror: { host: reviews.host, subset: 'v2' }, mirrorPercentage: { value: 10 } },
          // Istio's prefixRewrite, and its deprecated integer mirrorPercent read as mirrorPercentage.
          { match: [{ uri: { prefix: '/v1/' } }], redirect: { prefixRewrite: '/v2/' } },
          { match: [{ uri: { prefix: '/here' } }], redirect: { scheme: 'https', derivePort: 'FROM_REQUEST_PORT' as const } },
          { route: [{ destination: { host: reviews.host, subset: 'v1' } }], mirror: { host: reviews.host, subset: 'v2' }, mirrorPercent: 25 },
        ],
      },
    };
    const { virtualHosts } = envoyServiceResources(service, model);
    const routes = virtualHosts[0]!.message.routes as ProtoMessage[];
    expect(routes[0]).toMatchObject({ redirect: { path_redirect: '/new', response_code: 'PERMANENT_REDIRECT' } });
    expect(routes[1]).toMatchObject({ direct_response: { status: 200, body: { inline_string: 'ok' } } });
    expect(routes[2]).toMatchObject({
      route: { request_mirror_policies: [{ cluster: 'outbound|9080|v2|reviews.weft-demo.svc.cluster.local', runtime_fraction: { default_value: { numerator: 100_000 } } }] },
    });
    expect(routes[3]).toMatchObject({ redirect: { prefix_rewrite: '/v2/', response_code: 'MOVED_PERMANENTLY' } });
    expect(routes[4]).toMatchObject({ redirect: { scheme_redirect: 'https', port_redirect: 9080 } }); // FROM_REQUEST_PORT: the route's port
    expect(routes[5]).toMatchObject({ route: { request_mirror_policies: [{ runtime_fraction: { default_value: { numerator: 250_000 } } }] } });
    const [, rds] = envoyPortResources(9080, virtualHosts);
    expect(checkMessage(TypeUrl.route, rds!.message)).toEqual([]);
  });

  it('matches presence for Envoy too: headers, a missing header and a query parameter; withoutHeaders holds for a missing header', () => {
    const model = sampleMesh();
    const reviews = model.service('reviews.weft-demo.svc.cluster.local')!;
    const route = { route: [{ destination: { host: reviews.host, subset: 'v1' } }] };
    const http = [{ match: [{ headers: { 'x-canary': {} }, withoutHeaders: { 'x-legacy': { regex: '*' }, 'x-env': { exact: 'prod' } }, queryParams: { trace: {} }, authority: {} }], ...route }];
    const { virtualHosts } = envoyServiceResources({ ...reviews, routing: { source: reviews.routing!.source, tcp: [], http } }, model);
    const routes = virtualHosts[0]!.message.routes as ProtoMessage[];
    expect(routes[0]!.match).toEqual({
      prefix: '/',
      headers: [
        { name: 'x-canary', present_match: true },
        { name: 'x-legacy', present_match: true, invert_match: true },
        // A request without x-env is not from prod: Envoy must see the missing header as empty to match it.
        { name: 'x-env', string_match: { exact: 'prod' }, invert_match: true, treat_missing_header_as_empty: true },
      ],
      query_parameters: [{ name: 'trace', present_match: true }],
    });
    const [, rds] = envoyPortResources(9080, virtualHosts);
    expect(checkMessage(TypeUrl.route, rds!.message)).toEqual([]);
  });

  it("header operations as Istio's: Host or :authority rewrites the authority; a destination's operations follow the route's", () => {
    const model = sampleMesh();
    const reviews = model.service('reviews.weft-demo.svc.cluster.local')!;
    const [v1, v2] = [{ host: reviews.host, subset: 'v1' }, { host: reviews.host, subset: 'v2' }];
    const http = [
      // Route and destination: the route's authority wins, the destination's headers come after the route's.
      { route: [{ destination: v1, headers: { request: { set: { ':authority': 'dest.example', 'x-dest': '1' } } } }], headers: { request: { set: { Host: 'route.example', 'x-route': '1' } } } },
      // rewrite.authority wins over a header's.
      { route: [{ destination: v1 }], rewrite: { authority: 'rewritten.example' }, headers: { request: { add: { host: 'added.example' } } } },
      // Weighted: each cluster its own operations and authority.
      { route: [{ destination: v1, weight: 50, headers: { request: { set: { host: 'one.example' } }, response: { remove: ['x-internal'] } } }, { destination: v2, weight: 50 }] },
    ];
    const { virtualHosts } = envoyServiceResources({ ...reviews, routing: { source: reviews.routing!.source, tcp: [], http } }, model);
    const routes = virtualHosts[0]!.message.routes as ProtoMessage[];
    expect(routes[0]).toMatchObject({
      route: { host_rewrite_literal: 'route.example' },
      request_headers_to_add: [{ header: { key: 'x-route', value: '1' } }, { header: { key: 'x-dest', value: '1' } }],
    });
    expect(routes[1]).toMatchObject({ route: { host_rewrite_literal: 'rewritten.example' } });
    expect(routes[1]!.request_headers_to_add).toBeUndefined(); // Envoy refuses to add Host: it is the rewrite
    expect((routes[2]!.route as ProtoMessage).weighted_clusters).toEqual({
      clusters: [
        { name: 'outbound|9080|v1|reviews.weft-demo.svc.cluster.local', response_headers_to_remove: ['x-internal'], host_rewrite_literal: 'one.example', weight: { value: 50 } },
        { name: 'outbound|9080|v2|reviews.weft-demo.svc.cluster.local', weight: { value: 50 } },
      ],
    });
    const [, rds] = envoyPortResources(9080, virtualHosts);
    expect(checkMessage(TypeUrl.route, rds!.message)).toEqual([]);
  });

  it("CORS as Istio's: a per-route policy for the outbound chain's CORS filter; proxyless clients get neither", () => {
    const model = sampleMesh();
    const reviews = model.service('reviews.weft-demo.svc.cluster.local')!;
    const corsPolicy = {
      allowOrigins: [{ exact: 'https://a.example' }, { regex: 'https://.*\\.b\\.example' }, {}, { prefix: '' }],
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['x-a', 'x-b'],
      exposeHeaders: ['x-c'],
      maxAge: '24h',
      allowCredentials: true,
      unmatchedPreflights: 'IGNORE' as const,
    };
    const http = [{ route: [{ destination: { host: reviews.host, subset: 'v1' } }], corsPolicy }];
    const service = { ...reviews, routing: { source: reviews.routing!.source, tcp: [], http } };
    const { virtualHosts } = envoyServiceResources(service, model);
    expect((virtualHosts[0]!.message.routes as ProtoMessage[])[0]!.typed_per_filter_config).toEqual({
      'envoy.filters.http.cors': {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
        forward_not_matching_preflights: { value: false },
        filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
        // An empty match is dropped (Istio's); a prefix "" takes every origin, said as a regex (Envoy refuses an empty prefix).
        allow_origin_string_match: [{ exact: 'https://a.example' }, { safe_regex: { regex: 'https://.*\\.b\\.example' } }, { safe_regex: { regex: '.*' } }],
        allow_credentials: { value: true },
        allow_headers: 'x-a,x-b',
        allow_methods: 'GET,POST',
        expose_headers: 'x-c',
        max_age: '86400',
      },
    });
    const [listener, rds] = envoyPortResources(9080, virtualHosts);
    expect(checkMessage(TypeUrl.route, rds!.message)).toEqual([]);
    expect(JSON.stringify(listener!.message)).toContain('"name":"envoy.filters.http.cors"');
    const proxyless = proxylessResources(service, model);
    expect(JSON.stringify(proxyless)).not.toContain('cors');
  });

  it('retries with a backoff: base_interval as written, capped at 10 times it', () => {
    const model = sampleMesh();
    const reviews = model.service('reviews.weft-demo.svc.cluster.local')!;
    const http = [{ route: [{ destination: { host: reviews.host, subset: 'v1' } }], retries: { attempts: 4, retryOn: '5xx,reset', backoff: '1.5s' } }];
    const { virtualHosts } = envoyServiceResources({ ...reviews, routing: { source: reviews.routing!.source, tcp: [], http } }, model);
    const routes = virtualHosts[0]!.message.routes as ProtoMessage[];
    expect(routes[0]).toMatchObject({
      route: {
        retry_policy: {
          retry_on: '5xx,reset',
          num_retries: { value: 4 },
          retry_back_off: { base_interval: { seconds: 1, nanos: 500_000_000 }, max_interval: { seconds: 15 } },
        },
      },
    });
    const [, rds] = envoyPortResources(9080, virtualHosts);
    expect(checkMessage(TypeUrl.route, rds!.message)).toEqual([]);
  });
});
