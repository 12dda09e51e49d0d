// MeshPolicy through the model into an Envoy sidecar's config: inbound TLS chains per mtls mode, RBAC, the local
// rate limit, access logs and tracing on the inbound HCM, TLS on the outbound clusters toward STRICT workloads,
// and the SDS secrets naming the agent's files. Every message is checked against Envoy's protos and PGV rules.
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import type { MeshPolicy } from '../../api/index.js';
import { memoryInputs, MeshModelStore } from '../../mesh/model/index.js';
import { reviewsMesh, serviceEntry, workloadEntry } from '../../mesh/model/testing.js';
import { checkMessage } from '../proto-check.js';
import { messageType, TypeUrl } from '../protos.js';
import { encodeResource, type ProtoMessage } from '../resource.js';
import { serviceClusters } from './clusters.js';
import { envoyInboundResources } from './envoy.js';
import { proxylessResources } from './proxyless.js';
import type { Generated } from './types.js';

const require = createRequire(import.meta.url);
const { parseConfig } = require('@grpc/grpc-js-xds/build/src/rbac.js') as { parseConfig(rbac: unknown): { apply(info: unknown): boolean } };

let created = 0;
function policy(name: string, spec: MeshPolicy['spec'], namespace = 'shop'): MeshPolicy {
  created++;
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'MeshPolicy',
    metadata: { name, namespace, creationTimestamp: `2026-11-25T10:00:${String(created).padStart(2, '0')}Z`, generation: 1 },
    spec,
  };
}

/** The reviews mesh plus a TCP service (`db`, port 5432) served by reviews-v1 too. */
function generate(meshPolicies: MeshPolicy[]) {
  const m = reviewsMesh();
  const db = serviceEntry('db', 'shop', 'db.shop.svc.cluster.local', [{ number: 5432, name: 'tcp', protocol: 'TCP' }], { workloadSelector: { labels: { app: 'reviews', version: 'v1' } } });
  const store = new MeshModelStore(
    memoryInputs({ serviceAccounts: m.serviceAccounts, serviceEntries: [m.serviceEntry, db], workloadEntries: [m.v1, m.v2], meshPolicies }),
  );
  store.rebuildAll();
  const inbound = envoyInboundResources(['127.0.0.2'], store); // reviews-v1's sidecar
  for (const g of inbound) expect({ name: g.name, problems: checkMessage(g.typeUrl, g.message) }).toEqual({ name: g.name, problems: [] });
  return { m, store, inbound };
}

const listenerOf = (resources: Generated[]) => resources.find((r) => r.name === 'virtualInbound')!.message;
const chainsOf = (resources: Generated[]) => listenerOf(resources).filter_chains as ProtoMessage[];
const chain = (resources: Generated[], name: string) => chainsOf(resources).find((c) => c.name === name)!;
const hcmOf = (c: ProtoMessage) => ((c.filters as ProtoMessage[])[0]!.typed_config as ProtoMessage);
const filterNames = (c: ProtoMessage) => (hcmOf(c).http_filters as ProtoMessage[]).map((f) => f.name);

describe('Envoy sidecar inbound: mutual TLS per mode', () => {
  it('without a policy (PERMISSIVE): tls_inspector, a TLS chain and a plaintext chain per port', () => {
    const { inbound } = generate([]);
    expect((listenerOf(inbound).listener_filters as ProtoMessage[]).map((f) => f.name)).toEqual([
      'envoy.filters.listener.original_dst',
      'envoy.filters.listener.tls_inspector',
    ]);
    expect(chainsOf(inbound).map((c) => c.name)).toEqual([
      'inbound|5432||mtls',
      'inbound|5432||plaintext',
      'inbound|50051||mtls',
      'inbound|50051||plaintext',
      'InboundPassthroughFilterChain',
    ]);
    expect(chain(inbound, 'inbound|50051||mtls')).toMatchObject({
      filter_chain_match: { destination_port: { value: 50051 }, transport_protocol: 'tls' },
      transport_socket: { typed_config: { require_client_certificate: { value: true } } },
    });
    const plaintext = chain(inbound, 'inbound|50051||plaintext');
    expect(plaintext.filter_chain_match).toEqual({ destination_port: { value: 50051 }, transport_protocol: 'raw_buffer' });
    expect(plaintext.transport_socket).toBeUndefined();
    expect(filterNames(plaintext)).toEqual(['envoy.filters.http.fault', 'envoy.filters.http.router']);
  });

  it('STRICT: one TLS chain per port matching no transport protocol, so plaintext fails the handshake', () => {
    const { inbound } = generate([policy('strict', { mtls: { mode: 'STRICT' } })]);
    expect(chainsOf(inbound).map((c) => c.name)).toEqual(['inbound|5432||mtls', 'inbound|50051||mtls', 'InboundPassthroughFilterChain']);
    expect(chain(inbound, 'inbound|50051||mtls').filter_chain_match).toEqual({ destination_port: { value: 50051 } });
    expect((listenerOf(inbound).listener_filters as ProtoMessage[]).map((f) => f.name)).toEqual(['envoy.filters.listener.original_dst']);
    const tls = chain(inbound, 'inbound|50051||mtls').transport_socket as ProtoMessage;
    expect(tls).toMatchObject({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        common_tls_context: {
          tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: { ads: {} } }],
          validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: { ads: {} } },
        },
        require_client_certificate: { value: true },
      },
    });
  });

  it('DISABLE: plaintext only', () => {
    const { inbound } = generate([policy('off', { mtls: { mode: 'DISABLE' } })]);
    expect(chainsOf(inbound).map((c) => c.name)).toEqual(['inbound|5432||plaintext', 'inbound|50051||plaintext', 'InboundPassthroughFilterChain']);
    expect(chainsOf(inbound).every((c) => c.transport_socket === undefined)).toBe(true);
  });

  it("the certificates are SDS secrets over the agent's files, re-read when the agent switches ..data", () => {
    const { inbound } = generate([]);
    const secrets = inbound.filter((g) => g.typeUrl === TypeUrl.secret);
    expect(secrets.map((s) => s.message)).toEqual([
      {
        name: 'default',
        tls_certificate: {
          certificate_chain: { filename: '/var/run/weft/cert-chain.pem' },
          private_key: { filename: '/var/run/weft/key.pem' },
          watched_directory: { path: '/var/run/weft' },
        },
      },
      { name: 'ROOTCA', validation_context: { trusted_ca: { filename: '/var/run/weft/root-cert.pem' }, watched_directory: { path: '/var/run/weft' } } },
    ]);
  });
});

describe('Envoy sidecar outbound: mutual TLS toward STRICT workloads', () => {
  it('clusters of a STRICT service carry TLS with Istio SNI and the workloads identities; others stay plaintext', () => {
    const { m, store } = generate([policy('strict', { mtls: { mode: 'STRICT' } })]);
    const clusters = serviceClusters(store.service(m.host)!, 'envoy');
    for (const c of clusters) expect(checkMessage(c.typeUrl, c.message)).toEqual([]);
    const all = clusters.find((c) => c.name === `outbound|9080||${m.host}`)!.message;
    expect(all.transport_socket).toMatchObject({
      typed_config: {
        sni: `outbound_.9080_._.${m.host}`,
        common_tls_context: {
          tls_certificate_sds_secret_configs: [{ name: 'default' }],
          combined_validation_context: {
            default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/shop/sa/reviews' } }] },
            validation_context_sds_secret_config: { name: 'ROOTCA' },
          },
        },
      },
    });
    const { store: plain } = generate([]);
    expect(serviceClusters(plain.service(m.host)!, 'envoy').every((c) => c.message.transport_socket === undefined)).toBe(true);
  });

  it('a MESH_EXTERNAL service stays plaintext under a STRICT namespace policy (its endpoints are not mesh workloads)', () => {
    const api = serviceEntry('api', 'shop', 'api.example.com', [{ number: 443, name: 'https', protocol: 'HTTPS' }], {
      location: 'MESH_EXTERNAL',
      workloadSelector: undefined,
      endpoints: [{ address: '203.0.113.7' }],
    });
    delete (api.spec as { workloadSelector?: unknown }).workloadSelector;
    const store = new MeshModelStore(memoryInputs({ serviceEntries: [api], meshPolicies: [policy('strict', { mtls: { mode: 'STRICT' } })] }));
    store.rebuildAll();
    const service = store.service('api.example.com')!;
    expect(service.endpoints[0]!.security?.mtlsMode).toBe('STRICT');
    expect(serviceClusters(service, 'envoy').every((c) => c.message.transport_socket === undefined)).toBe(true);
    expect(serviceClusters(service, 'proxyless').every((c) => c.message.transport_socket === undefined)).toBe(true);
  });

  it('a subset cluster names its subset in the SNI', () => {
    const m = reviewsMesh();
    const store = new MeshModelStore(
      memoryInputs({ serviceAccounts: m.serviceAccounts, serviceEntries: [m.serviceEntry], workloadEntries: [m.v1, m.v2], destinationRules: [m.rule], meshPolicies: [policy('strict', { mtls: { mode: 'STRICT' } })] }),
    );
    store.rebuildAll();
    const v1 = serviceClusters(store.service(m.host)!, 'envoy').find((c) => c.name === `outbound|9080|v1|${m.host}`)!;
    expect(v1.message.transport_socket).toMatchObject({ typed_config: { sni: `outbound_.9080_.v1_.${m.host}` } });
  });
});

/** Runs RBAC filters as grpc-js-xds's evaluator does (the same Envoy RBAC semantics). */
function allowed(filters: ProtoMessage[], peer: string | undefined, path: string): boolean {
  const { Metadata } = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const headers = new Metadata();
  headers.set(':method', 'POST');
  headers.set(':path', path);
  const info = {
    destinationIp: '127.0.0.2',
    destinationPort: 50051,
    sourceIp: '127.0.0.9',
    headers,
    tls: peer !== undefined,
    peerCertificate: peer ? { subjectaltname: `URI:${peer}`, subject: {} } : null,
    urlPath: path,
  };
  const rbac = messageType('envoy.extensions.filters.http.rbac.v3.RBAC');
  return filters.every((f) => {
    const typed = f.typed_config as ProtoMessage;
    const { '@type': _, ...config } = typed;
    const decoded = rbac.toObject(rbac.decode(rbac.encode(rbac.fromObject(config)).finish()), { enums: String, longs: Number, defaults: false, oneofs: true }) as { rules: unknown };
    return parseConfig(decoded.rules).apply(info);
  });
}

describe('Envoy sidecar inbound: authorization, rate limit, telemetry', () => {
  it('authorization: RBAC (DENY, then ALLOW) before the rate limit and the router on every HTTP chain', () => {
    const { inbound } = generate([
      policy('deny-admin', { authorization: { action: 'DENY', rules: [{ to: [{ paths: ['/demo.Echo/Admin'] }] }] } }),
      policy('allow-frontend', { authorization: { action: 'ALLOW', rules: [{ from: [{ principals: ['cluster.local/ns/a/sa/frontend'] }] }] } }),
      policy('limit', { rateLimit: { requestsPerUnit: 10, unit: 'SECOND' } }),
    ]);
    for (const name of ['inbound|50051||mtls', 'inbound|50051||plaintext']) {
      expect(filterNames(chain(inbound, name))).toEqual(['weft.rbac.deny', 'weft.rbac.allow', 'envoy.filters.http.local_ratelimit', 'envoy.filters.http.fault', 'envoy.filters.http.router']);
    }
    const rbac = (hcmOf(chain(inbound, 'inbound|50051||mtls')).http_filters as ProtoMessage[]).slice(0, 2);
    expect(allowed(rbac, 'spiffe://cluster.local/ns/a/sa/frontend', '/demo.Echo/Say')).toBe(true);
    expect(allowed(rbac, 'spiffe://cluster.local/ns/a/sa/frontend', '/demo.Echo/Admin')).toBe(false);
    expect(allowed(rbac, 'spiffe://cluster.local/ns/a/sa/other', '/demo.Echo/Say')).toBe(false);
    expect(allowed(rbac, undefined, '/demo.Echo/Say')).toBe(false);
  });

  it('authorization on a TCP port: network RBAC before the TCP proxy; ALLOW rules that need a path match nothing', () => {
    const { inbound } = generate([
      policy('allow', { authorization: { action: 'ALLOW', rules: [{ from: [{ namespaces: ['a'] }] }, { to: [{ paths: ['/x'] }] }] } }),
    ]);
    const filters = chain(inbound, 'inbound|5432||mtls').filters as ProtoMessage[];
    expect(filters.map((f) => f.name)).toEqual(['weft.rbac.allow', 'envoy.filters.network.tcp_proxy']);
    const rules = (filters[0]!.typed_config as ProtoMessage).rules as { action: string; policies: Record<string, ProtoMessage> };
    expect(rules.action).toBe('ALLOW');
    expect(Object.keys(rules.policies)).toEqual(['ns[shop]-policy[allow]-rule[0]']);
  });

  it('rateLimit: a token bucket of burst tokens refilled with requestsPerUnit every unit, always enforced', () => {
    const { inbound } = generate([policy('limit', { rateLimit: { requestsPerUnit: 100, unit: 'MINUTE', burst: 150 } })]);
    const filter = (hcmOf(chain(inbound, 'inbound|50051||plaintext')).http_filters as ProtoMessage[]).find((f) => f.name === 'envoy.filters.http.local_ratelimit')!;
    expect(filter.typed_config).toMatchObject({
      token_bucket: { max_tokens: 150, tokens_per_fill: { value: 100 }, fill_interval: { seconds: 60 } },
      filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
      filter_enforced: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
    });
    const { inbound: noBurst } = generate([policy('limit2', { rateLimit: { requestsPerUnit: 5, unit: 'HOUR' } })]);
    const bucket = ((hcmOf(chain(noBurst, 'inbound|50051||plaintext')).http_filters as ProtoMessage[])[0]!.typed_config as ProtoMessage).token_bucket;
    expect(bucket).toEqual({ max_tokens: 5, tokens_per_fill: { value: 5 }, fill_interval: { seconds: 3600 } });
  });

  it('telemetry: a stdout access log (HTTP and TCP), OpenTelemetry tracing to a STRICT_DNS collector cluster', () => {
    const { inbound } = generate([
      policy('telemetry', { telemetry: { accessLog: { enabled: true }, tracing: { provider: 'opentelemetry', endpoint: 'otel-collector.weft-system:4317', samplingPercentage: 10 } } }),
    ]);
    const hcm = hcmOf(chain(inbound, 'inbound|50051||mtls'));
    expect(hcm.access_log).toEqual([{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog' } }]);
    expect(hcm.tracing).toMatchObject({
      random_sampling: { value: 10 },
      provider: { name: 'envoy.tracers.opentelemetry', typed_config: { grpc_service: { envoy_grpc: { cluster_name: 'tracing|4317||otel-collector.weft-system' } } } },
    });
    const tcp = (chain(inbound, 'inbound|5432||mtls').filters as ProtoMessage[]).at(-1)!.typed_config as ProtoMessage;
    expect(tcp.access_log).toHaveLength(1);
    const clusters = inbound.filter((g) => g.name === 'tracing|4317||otel-collector.weft-system');
    expect(clusters).toHaveLength(1);
    expect(clusters[0]!.message).toMatchObject({
      type: 'STRICT_DNS',
      load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'otel-collector.weft-system', port_value: 4317 } } } }] }] },
      typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { explicit_http_config: { http2_protocol_options: {} } } },
    });
  });

  it('telemetry: Zipkin tracing, and the workload scope beats the namespace one', () => {
    const { inbound } = generate([
      policy('ns', { telemetry: { accessLog: { enabled: true } } }),
      policy('wl', { selector: { matchLabels: { version: 'v1' } }, telemetry: { tracing: { provider: 'zipkin', endpoint: 'zipkin.tracing:9411' } } }),
    ]);
    const hcm = hcmOf(chain(inbound, 'inbound|50051||plaintext'));
    expect(hcm.access_log).toBeUndefined();
    expect(hcm.tracing).toMatchObject({
      random_sampling: { value: 1 },
      provider: { name: 'envoy.tracers.zipkin', typed_config: { collector_cluster: 'tracing|9411||zipkin.tracing', collector_endpoint: '/api/v2/spans' } },
    });
  });

  it('survives an encode/decode round trip; proxyless resources do not change with rateLimit or telemetry', () => {
    const spec = { rateLimit: { requestsPerUnit: 1, unit: 'SECOND' as const }, telemetry: { accessLog: { enabled: true } } };
    const { inbound, m, store } = generate([policy('all', { ...spec, mtls: { mode: 'STRICT' } })]);
    for (const g of inbound) {
      const type = messageType(g.typeUrl);
      const any = messageType('google.protobuf.Any').decode(encodeResource(g.typeUrl, g.name, g.message).any) as unknown as { value: Uint8Array };
      expect(Buffer.from(type.encode(type.decode(any.value)).finish()).equals(Buffer.from(any.value))).toBe(true);
    }
    const { store: without } = generate([policy('mtls-only', { mtls: { mode: 'STRICT' } })]);
    const bytes = (s: typeof store) => proxylessResources(s.service(m.host)!, s).map((g) => encodeResource(g.typeUrl, g.name, g.message).version);
    expect(bytes(store)).toEqual(bytes(without));
  });

  it('a workload with no ports still gets the secrets and the passthrough chain', () => {
    const store = new MeshModelStore(memoryInputs({ workloadEntries: [workloadEntry('lonely', 'shop', '127.0.0.9', { app: 'lonely' })] }));
    store.rebuildAll();
    const inbound = envoyInboundResources(['127.0.0.9'], store);
    expect(inbound.map((g) => `${g.typeUrl.split('.').pop()} ${g.name}`)).toEqual(['Listener virtualInbound', 'Secret default', 'Secret ROOTCA']);
    expect(chainsOf(inbound).map((c) => c.name)).toEqual(['InboundPassthroughFilterChain']);
  });
});
