// The gateway proxy's listeners, routes and secrets: shaped as the issue asks (a listener per port, SNI filter
// chains with SDS certificates, HTTPS redirect, routes from bound VirtualServices) and valid against the real
// Envoy v3 protos (strict field check, then encoded and decoded).
import { describe, expect, it } from '@jest/globals';
import type { Gateway, GatewaySpec, RouteDestination, VirtualService } from '../../api/index.js';
import { checkMessage } from '../proto-check.js';
import { messageType, TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { gatewaysSelecting, gatewayXds, type GatewayXdsInput, type TlsSecretData } from './gateway.js';
import type { Generated } from './types.js';

const CERT = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n').toString('base64');
const KEY = Buffer.from('-----BEGIN PRIVATE KEY-----\nMIGH...\n-----END PRIVATE KEY-----\n').toString('base64');

function gateway(name: string, spec: Partial<GatewaySpec>, created = '2026-01-01T00:00:00Z'): Gateway {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Gateway',
    metadata: { name, namespace: 'shop', uid: name, generation: 2, creationTimestamp: created },
    spec: { selector: { app: 'edge' }, servers: [], ...spec },
  };
}

function virtualService(name: string, hosts: string[], gateways: string[], namespace = 'shop', created = '2026-01-01T00:00:00Z'): VirtualService {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'VirtualService',
    metadata: { name, namespace, generation: 1, creationTimestamp: created },
    spec: { hosts, gateways, http: [{ route: [{ destination: { host: `${name}.${namespace}.svc.cluster.local`, port: { number: 9080 } } }] }] },
  };
}

const https = { port: { number: 443, name: 'https', protocol: 'HTTPS' as const }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE' as const, credentialName: 'shop-cert', minProtocolVersion: 'TLSV1_2' as const } };
const http = { port: { number: 80, name: 'http', protocol: 'HTTP' as const }, hosts: ['shop.example.com'] };

/** A stand-in for the xDS server's route generator: everything to the first destination's cluster. */
function httpRoutes(vs: VirtualService, port: number): ProtoMessage[] {
  const d = vs.spec.http![0]!.route![0]!.destination;
  return [{ name: `${vs.metadata.name}.${port}`, match: { prefix: '/' }, route: { cluster: `outbound|${d.port!.number}||${d.host}` } }];
}

/** A stand-in for the xDS server's L4 target: the first destination's cluster. */
function tcpTarget(_vs: VirtualService, destinations: readonly RouteDestination[], port: number): ProtoMessage {
  return { cluster: `outbound|${destinations[0]!.destination.port?.number ?? port}||${destinations[0]!.destination.host}` };
}

function generate(over: Partial<GatewayXdsInput> & Pick<GatewayXdsInput, 'gateways'>): Map<string, Generated> {
  const secrets: Record<string, TlsSecretData> = { 'shop/shop-cert': { data: { 'tls.crt': CERT, 'tls.key': KEY } } };
  const resources = gatewayXds({ virtualServices: [], secret: (ns, name) => secrets[`${ns}/${name}`], httpRoutes, tcpTarget, ...over });
  for (const r of resources) expect({ name: r.name, problems: checkMessage(r.typeUrl, r.message) }).toEqual({ name: r.name, problems: [] });
  return new Map(resources.map((r) => [r.name, r]));
}

const hcm = (listener: ProtoMessage, chain: number) => ((listener.filter_chains as ProtoMessage[])[chain]!.filters as ProtoMessage[])[0]!.typed_config as ProtoMessage;

describe('gatewayXds', () => {
  it('serves a VirtualService bound to the gateway as routes in the gateway’s RDS', () => {
    const bound = virtualService('shop', ['shop.example.com'], ['edge']);
    const elsewhere = virtualService('other', ['shop.example.com'], ['other-gateway']);
    const out = generate({ gateways: [gateway('edge', { servers: [http] })], virtualServices: [bound, elsewhere] });
    expect([...out.keys()]).toEqual(['0.0.0.0_80', 'http.80']);
    const listener = out.get('0.0.0.0_80')!;
    expect(listener.message.address).toEqual({ socket_address: { address: '0.0.0.0', port_value: 80 } });
    expect(hcm(listener.message, 0).rds).toEqual({ route_config_name: 'http.80', config_source: { ads: {}, resource_api_version: 'V3' } });
    const routes = out.get('http.80')!;
    expect(routes.message.virtual_hosts).toEqual([
      {
        name: 'shop.example.com:80',
        domains: ['shop.example.com', 'shop.example.com:80'],
        routes: [{ name: 'shop.80', match: { prefix: '/' }, route: { cluster: 'outbound|9080||shop.shop.svc.cluster.local' } }],
      },
    ]);
    expect(routes.sources.map((s) => `${s.kind}/${s.name}@${s.generation}`)).toEqual(['Gateway/edge@2', 'VirtualService/shop@1']);
  });

  it('terminates TLS with the certificate of the credential Secret, delivered over SDS, chosen by SNI', () => {
    const out = generate({ gateways: [gateway('edge', { servers: [https] })], virtualServices: [virtualService('shop', ['shop.example.com'], ['shop/edge'])] });
    const listener = out.get('0.0.0.0_443')!.message;
    expect(listener.listener_filters).toEqual([{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } }]);
    const [chain] = listener.filter_chains as ProtoMessage[];
    expect(chain!.filter_chain_match).toEqual({ transport_protocol: 'tls', server_names: ['shop.example.com'] });
    expect(chain!.transport_socket).toEqual({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        common_tls_context: {
          tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
          tls_certificate_sds_secret_configs: [{ name: 'kubernetes://shop/shop-cert', sds_config: { ads: {}, resource_api_version: 'V3' } }],
          alpn_protocols: ['h2', 'http/1.1'],
        },
      },
    });
    expect(hcm(listener, 0).rds).toMatchObject({ route_config_name: 'https.443.shop.edge.0' });
    expect((out.get('https.443.shop.edge.0')!.message.virtual_hosts as ProtoMessage[]).map((v) => v.domains)).toEqual([['shop.example.com', 'shop.example.com:443']]);

    // The SDS secret carries exactly the Secret's certificate and key, as bytes.
    const secret = out.get('kubernetes://shop/shop-cert')!;
    expect(secret.sources).toEqual([{ kind: 'Secret', namespace: 'shop', name: 'shop-cert', generation: 0 }]);
    const type = messageType(TypeUrl.secret);
    const decoded = type.toObject(type.decode(type.encode(type.fromObject(secret.message)).finish()), { bytes: String }) as {
      name: string;
      tls_certificate: { certificate_chain: { inline_bytes: string }; private_key: { inline_bytes: string } };
    };
    expect(decoded.name).toBe('kubernetes://shop/shop-cert');
    expect(decoded.tls_certificate.certificate_chain.inline_bytes).toBe(CERT);
    expect(decoded.tls_certificate.private_key.inline_bytes).toBe(KEY);
  });

  it('leaves out a TLS server whose Secret is missing, so it cannot hold the other listeners back', () => {
    const out = generate({
      gateways: [gateway('edge', { servers: [{ ...https, tls: { mode: 'SIMPLE', credentialName: 'missing' } }, http] })],
      virtualServices: [virtualService('shop', ['shop.example.com'], ['edge'])],
    });
    expect([...out.keys()]).toEqual(['0.0.0.0_80', 'http.80']);
  });

  it('redirects plain HTTP to HTTPS for a server with httpsRedirect', () => {
    const out = generate({
      gateways: [gateway('edge', { servers: [https, { ...http, tls: { httpsRedirect: true } }] })],
      virtualServices: [virtualService('shop', ['shop.example.com'], ['edge'])],
    });
    expect(out.get('http.80')!.message.virtual_hosts).toEqual([{ name: 'shop.example.com:80', domains: ['shop.example.com', 'shop.example.com:80'], require_tls: 'ALL' }]);
    expect([...out.keys()]).toEqual(['0.0.0.0_80', 'http.80', '0.0.0.0_443', 'https.443.shop.edge.0', 'kubernetes://shop/shop-cert']);
  });

  it('tells plain and TLS traffic apart on a shared port, and verifies client certificates for MUTUAL', () => {
    const mutual = { ...https, port: { number: 8443, name: 'mixed', protocol: 'HTTPS' as const }, tls: { mode: 'MUTUAL' as const, credentialName: 'shop-cert' } };
    const plain = { ...http, port: { number: 8443, name: 'plain', protocol: 'HTTP' as const } };
    const out = generate({
      gateways: [gateway('edge', { servers: [mutual, plain] })],
      secret: () => ({ data: { 'tls.crt': CERT, 'tls.key': KEY, 'ca.crt': CERT } }),
    });
    const chains = out.get('0.0.0.0_8443')!.message.filter_chains as ProtoMessage[];
    expect(chains.map((c) => (c.filter_chain_match as ProtoMessage).transport_protocol)).toEqual(['raw_buffer', 'tls']);
    const tls = (chains[1]!.transport_socket as ProtoMessage).typed_config as ProtoMessage;
    expect(tls.require_client_certificate).toEqual({ value: true });
    expect((tls.common_tls_context as ProtoMessage).validation_context_sds_secret_config).toMatchObject({ name: 'kubernetes://shop/shop-cert-cacert' });
    expect(out.get('kubernetes://shop/shop-cert-cacert')!.message).toEqual({ name: 'kubernetes://shop/shop-cert-cacert', validation_context: { trusted_ca: { inline_bytes: CERT } } });
  });

  it('serves two certificates (credentialNames: RSA and ECDSA) on one chain, each its own SDS secret; caCertCredentialName verifies clients', () => {
    const ECDSA_CERT = Buffer.from('ecdsa certificate').toString('base64');
    const ECDSA_KEY = Buffer.from('ecdsa key').toString('base64');
    const CA = Buffer.from('client ca').toString('base64');
    const secrets: Record<string, TlsSecretData> = {
      'shop/rsa': { data: { 'tls.crt': CERT, 'tls.key': KEY, 'ca.crt': CERT } },
      'shop/ecdsa': { data: { 'tls.crt': ECDSA_CERT, 'tls.key': ECDSA_KEY } },
      'shop/clients': { data: { 'tls.crt': CERT, 'tls.key': KEY, 'ca.crt': CA } },
    };
    const dual = { ...https, tls: { mode: 'MUTUAL' as const, credentialNames: ['rsa', 'ecdsa'], caCertCredentialName: 'clients' } };
    const out = generate({
      gateways: [gateway('edge', { servers: [dual] })],
      virtualServices: [virtualService('shop', ['shop.example.com'], ['edge'])],
      secret: (ns, name) => secrets[`${ns}/${name}`],
    });
    const [chain] = out.get('0.0.0.0_443')!.message.filter_chains as ProtoMessage[];
    const context = ((chain!.transport_socket as ProtoMessage).typed_config as ProtoMessage).common_tls_context as ProtoMessage;
    const ads = { ads: {}, resource_api_version: 'V3' };
    expect(context.tls_certificate_sds_secret_configs).toEqual([
      { name: 'kubernetes://shop/rsa', sds_config: ads },
      { name: 'kubernetes://shop/ecdsa', sds_config: ads },
    ]);
    // The CA comes from caCertCredentialName, not from the first credential's own ca.crt.
    expect(context.validation_context_sds_secret_config).toEqual({ name: 'kubernetes://shop/clients-cacert', sds_config: ads });
    expect(out.get('kubernetes://shop/ecdsa')!.message).toEqual({
      name: 'kubernetes://shop/ecdsa',
      tls_certificate: { certificate_chain: { inline_bytes: ECDSA_CERT }, private_key: { inline_bytes: ECDSA_KEY } },
    });
    expect(out.get('kubernetes://shop/rsa')!.sources).toEqual([{ kind: 'Secret', namespace: 'shop', name: 'rsa', generation: 0 }]);
    expect(out.get('kubernetes://shop/clients-cacert')!.message).toEqual({ name: 'kubernetes://shop/clients-cacert', validation_context: { trusted_ca: { inline_bytes: CA } } });
    expect(out.has('kubernetes://shop/rsa-cacert')).toBe(false);

    // One of the two Secrets missing: the server is left out rather than served with half its certificates.
    const half = generate({ gateways: [gateway('edge', { servers: [dual] })], secret: (ns, name) => (name === 'ecdsa' ? undefined : secrets[`${ns}/${name}`]) });
    expect([...half.keys()]).toEqual([]);
  });

  it("admits VirtualServices only from the namespaces a server host allows, and merges a host's routes, the oldest VirtualService's first", () => {
    const server = { ...http, hosts: ['shop/*.example.com'] };
    const older = virtualService('a', ['api.example.com'], ['shop/edge'], 'shop', '2026-01-01T00:00:00Z');
    const newer = virtualService('b', ['api.example.com', 'www.example.com'], ['shop/edge'], 'shop', '2026-02-01T00:00:00Z');
    const foreign = virtualService('c', ['foreign.example.com'], ['shop/edge'], 'other');
    const out = generate({ gateways: [gateway('edge', { servers: [server] })], virtualServices: [newer, foreign, older] });
    expect((out.get('http.80')!.message.virtual_hosts as ProtoMessage[]).map((v) => [v.name, v.domains, (v.routes as ProtoMessage[]).map((r) => r.name)])).toEqual([
      ['api.example.com:80', ['api.example.com', 'api.example.com:80'], ['a.80', 'b.80']],
      ['www.example.com:80', ['www.example.com', 'www.example.com:80'], ['b.80']],
    ]);
  });

  it("merges the routes of Istio's samples on one ingress: Gateways in several namespaces that all claim * on port 80", () => {
    const bookinfoGw = { ...gateway('bookinfo-gateway', { servers: [{ ...http, hosts: ['*'] }] }, '2026-01-01T00:00:00Z') };
    const httpbinGw = { ...gateway('httpbin-gateway', { servers: [{ ...http, hosts: ['*'] }] }, '2026-01-02T00:00:00Z'), metadata: { ...gateway('x', {}).metadata, name: 'httpbin-gateway', namespace: 'web', uid: 'h' } };
    const bookinfo = virtualService('bookinfo', ['*'], ['bookinfo-gateway'], 'shop', '2026-01-01T00:00:00Z');
    const httpbin = virtualService('httpbin', ['*'], ['httpbin-gateway'], 'web', '2026-01-02T00:00:00Z');
    const out = generate({ gateways: [bookinfoGw, httpbinGw], virtualServices: [httpbin, bookinfo] });
    expect([...out.keys()]).toEqual(['0.0.0.0_80', 'http.80']);
    expect((out.get('http.80')!.message.virtual_hosts as ProtoMessage[]).map((v) => [v.domains, (v.routes as ProtoMessage[]).map((r) => r.name)])).toEqual([
      [['*'], ['bookinfo.80', 'httpbin.80']],
    ]);
  });

  it('merges every Gateway that selects the proxy’s pods, listening on each server’s target port', () => {
    const edge = gateway('edge', { servers: [http] }, '2026-01-01T00:00:00Z');
    const admin = gateway('edge-admin', { selector: { app: 'edge' }, servers: [{ ...http, port: { number: 8080, name: 'admin', protocol: 'HTTP', targetPort: 18080 }, hosts: ['admin.example.com'] }] }, '2026-01-02T00:00:00Z');
    const unrelated = gateway('other', { selector: { app: 'other' }, servers: [http] });
    const selected = gatewaysSelecting({ app: 'edge', 'weft.dev/gateway-name': 'edge' }, [admin, unrelated, edge]);
    expect(selected.map((g) => g.metadata.name)).toEqual(['edge', 'edge-admin']);
    const out = generate({ gateways: selected });
    expect([...out.keys()]).toEqual(['0.0.0.0_80', 'http.80', '0.0.0.0_18080', 'http.18080']);
  });
  it('forwards TLS untouched by SNI for a PASSTHROUGH server, to the VirtualService tls route the name matches', () => {
    const passthrough = { port: { number: 443, name: 'tls', protocol: 'TLS' as const }, hosts: ['*.example.com'], tls: { mode: 'PASSTHROUGH' as const } };
    const db: VirtualService = {
      ...virtualService('db', ['db.example.com'], ['edge']),
      spec: {
        hosts: ['db.example.com'],
        gateways: ['edge'],
        tls: [
          { match: [{ sniHosts: ['db.example.com'], port: 443 }], route: [{ destination: { host: 'db.shop.svc.cluster.local', port: { number: 5432 } } }] },
          { match: [{ sniHosts: ['db.example.com', 'other.example.com'], gateways: ['elsewhere'] }], route: [{ destination: { host: 'x.shop.svc.cluster.local', port: { number: 1 } } }] },
        ],
      },
    };
    const out = generate({ gateways: [gateway('edge', { servers: [passthrough] })], virtualServices: [db] });
    const listener = out.get('0.0.0.0_443')!;
    expect(listener.message.listener_filters).toEqual([expect.objectContaining({ name: 'envoy.filters.listener.tls_inspector' })]);
    // One chain: the second route's match names another gateway. No transport socket: TLS is not ended here.
    expect(listener.message.filter_chains).toEqual([
      {
        filter_chain_match: { transport_protocol: 'tls', server_names: ['db.example.com'] },
        filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'gateway_443_passthrough', cluster: 'outbound|5432||db.shop.svc.cluster.local' } }],
      },
    ]);
    expect(listener.sources.map((r) => `${r.kind}/${r.name}`)).toEqual(['Gateway/edge', 'VirtualService/db']);
    // Without a tls route there is nothing to forward to: no listener rather than one Envoy refuses.
    expect(generate({ gateways: [gateway('edge', { servers: [passthrough] })] }).has('0.0.0.0_443')).toBe(false);
  });

  it("reads Istio's protocol names in any case: an http server routes, a tcp (or mysql) server proxies", () => {
    const bound = virtualService('shop', ['shop.example.com'], ['edge']);
    const lower = { ...http, port: { ...http.port, protocol: 'http' } };
    const mysql = { port: { number: 3306, name: 'mysql', protocol: 'MySQL' }, hosts: ['*'] };
    const db: VirtualService = {
      ...virtualService('db', ['db.shop.svc.cluster.local'], ['edge']),
      spec: { hosts: ['db.shop.svc.cluster.local'], gateways: ['edge'], tcp: [{ route: [{ destination: { host: 'db.shop.svc.cluster.local', port: { number: 3306 } } }] }] },
    };
    const out = generate({ gateways: [gateway('edge', { servers: [lower, mysql] })], virtualServices: [bound, db] });
    expect([...out.keys()]).toEqual(['0.0.0.0_80', 'http.80', '0.0.0.0_3306']);
    expect(hcm(out.get('0.0.0.0_80')!.message, 0).rds).toMatchObject({ route_config_name: 'http.80' });
    expect(((out.get('0.0.0.0_3306')!.message.filter_chains as ProtoMessage[])[0]!.filters as ProtoMessage[])[0]!.name).toBe('envoy.filters.network.tcp_proxy');
  });

  it('proxies a TCP server to the bound VirtualService tcp route for its port', () => {
    const tcp = { port: { number: 5432, name: 'postgres', protocol: 'TCP' as const }, hosts: ['*'] };
    const pg: VirtualService = {
      ...virtualService('pg', ['pg.shop.svc.cluster.local'], ['edge']),
      spec: {
        hosts: ['pg.shop.svc.cluster.local'],
        gateways: ['edge'],
        tcp: [
          { match: [{ port: 6000 }], route: [{ destination: { host: 'wrong.shop.svc.cluster.local', port: { number: 1 } } }] },
          { match: [{ port: 5432 }], route: [{ destination: { host: 'pg.shop.svc.cluster.local', port: { number: 5432 } } }] },
        ],
      },
    };
    const out = generate({ gateways: [gateway('edge', { servers: [tcp] })], virtualServices: [pg] });
    const listener = out.get('0.0.0.0_5432')!.message;
    expect(listener.listener_filters).toBeUndefined();
    expect(listener.filter_chains).toEqual([{ filters: [expect.objectContaining({ name: 'envoy.filters.network.tcp_proxy', typed_config: expect.objectContaining({ cluster: 'outbound|5432||pg.shop.svc.cluster.local' }) })] }]);
  });
});
