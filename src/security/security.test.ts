// The security config is checked three ways: against the Envoy descriptors (checkMessage: no unknown fields,
// oneofs, PGV rules), by an encode/decode round trip through the real protos, and, for RBAC, by grpc-js-xds's own
// evaluator deciding real-looking requests, so "ALLOW frontend" means what grpc-js-xds will enforce.
import { describe, expect, it } from '@jest/globals';
import { Metadata } from '@grpc/grpc-js';
import { createRequire } from 'node:module';
import type { MeshPolicy } from '../api/index.js';
import type { AuthorizationRule } from '../api/meshpolicy.js';
import { checkMessage } from '../xds/proto-check.js';
import { messageType } from '../xds/protos.js';
import type { ProtoMessage } from '../xds/resource.js';
import {
  clientTransportSocket,
  inboundFilterChains,
  mtlsModeAt,
  rbacHttpFilters,
  rbacNetworkFilters,
  securityPolicies,
  usesMutualTls,
  workloadSecurity,
  type AuthorizationInScope,
} from './index.js';

const require = createRequire(import.meta.url);
const { parseConfig } = require('@grpc/grpc-js-xds/build/src/rbac.js') as {
  parseConfig(rbac: unknown): { apply(info: unknown): boolean };
};

const TRANSPORT_SOCKET = 'envoy.config.core.v3.TransportSocket';
const HTTP_FILTER = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter';
const TO_OBJECT = { longs: String, enums: String, defaults: true, oneofs: true };

/** Encodes with the Envoy protos, decodes the Any inside, as a proxy would. */
function roundTrip(typeName: string, message: ProtoMessage): Record<string, unknown> {
  const outer = messageType(typeName);
  const decoded = outer.toObject(outer.decode(outer.encode(outer.fromObject(message)).finish()), TO_OBJECT) as { typed_config: { type_url: string; value: Uint8Array } };
  const inner = messageType(decoded.typed_config.type_url);
  return inner.toObject(inner.decode(decoded.typed_config.value), TO_OBJECT);
}

describe('mutual TLS', () => {
  it('STRICT: one chain requiring a client certificate, identity and roots from the bootstrap provider', () => {
    const chains = inboundFilterChains('STRICT');
    expect(chains.map((c) => c.name)).toEqual(['mtls']);
    const socket = chains[0]!.transport_socket!;
    expect(checkMessage(TRANSPORT_SOCKET, socket)).toEqual([]);
    const tls = roundTrip(TRANSPORT_SOCKET, socket) as Record<string, any>;
    expect(tls.require_client_certificate).toEqual({ value: true });
    expect(tls.common_tls_context.tls_certificate_provider_instance).toEqual({ instance_name: 'default', certificate_name: 'default' });
    expect(tls.common_tls_context.validation_context.ca_certificate_provider_instance).toEqual({ instance_name: 'default', certificate_name: 'ROOTCA' });
  });

  it('PERMISSIVE and DISABLE: plaintext (a gRPC server cannot sniff TLS per connection)', () => {
    expect(inboundFilterChains('PERMISSIVE')).toEqual([{ name: 'plaintext' }]);
    expect(inboundFilterChains('DISABLE')).toEqual([{ name: 'plaintext' }]);
  });

  it('clients use mutual TLS toward STRICT servers, or when a DestinationRule says ISTIO_MUTUAL', () => {
    expect(usesMutualTls('STRICT')).toBe(true);
    expect(usesMutualTls('PERMISSIVE')).toBe(false);
    expect(usesMutualTls('PERMISSIVE', 'ISTIO_MUTUAL')).toBe(true);
    expect(usesMutualTls('STRICT', 'DISABLE')).toBe(false);
  });

  it('client TLS verifies the server SPIFFE IDs exactly', () => {
    const socket = clientTransportSocket({
      destinationMode: 'STRICT',
      serverIdentities: ['spiffe://cluster.local/ns/b/sa/backend', 'spiffe://cluster.local/ns/b/sa/backend'],
      trustDomain: 'cluster.local',
    })!;
    expect(checkMessage(TRANSPORT_SOCKET, socket)).toEqual([]);
    const tls = roundTrip(TRANSPORT_SOCKET, socket) as Record<string, any>;
    expect(tls.common_tls_context.validation_context.match_subject_alt_names).toEqual([
      expect.objectContaining({ exact: 'spiffe://cluster.local/ns/b/sa/backend', match_pattern: 'exact' }),
    ]);
    expect(tls.common_tls_context.tls_certificate_provider_instance.instance_name).toBe('default');
  });

  it('client TLS without known server identities accepts any identity of the trust domain', () => {
    const socket = clientTransportSocket({ destinationMode: 'STRICT', serverIdentities: [], trustDomain: 'example.org' })!;
    const tls = roundTrip(TRANSPORT_SOCKET, socket) as Record<string, any>;
    expect(tls.common_tls_context.validation_context.match_subject_alt_names[0]).toMatchObject({ prefix: 'spiffe://example.org/' });
    expect(clientTransportSocket({ destinationMode: 'DISABLE', serverIdentities: [], trustDomain: 'td' })).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------

interface Request {
  peer?: string;
  path: string;
  port?: number;
  source?: string;
  headers?: Record<string, string>;
  host?: string;
}

/** Runs the filters the way grpc-js-xds's RBAC interceptor does: every filter in order must accept. */
function decide(filters: ProtoMessage[], request: Request): 'allowed' | 'denied' {
  const headers = new Metadata();
  headers.set(':method', 'POST');
  headers.set(':path', request.path);
  headers.set(':authority', request.host ?? 'echo.a.svc.cluster.local:9080');
  for (const [name, value] of Object.entries(request.headers ?? {})) headers.set(name, value);
  const info = {
    destinationIp: '127.0.0.5',
    destinationPort: request.port ?? 9080,
    sourceIp: request.source ?? '127.0.0.6',
    headers,
    tls: request.peer !== undefined,
    peerCertificate: request.peer ? { subjectaltname: `URI:${request.peer}`, subject: {} } : null,
    urlPath: request.path,
  };
  for (const filter of filters) {
    expect(checkMessage(HTTP_FILTER, filter)).toEqual([]);
    const rbac = roundTrip(HTTP_FILTER, filter) as { rules: unknown };
    if (!parseConfig(rbac.rules).apply(info)) return 'denied';
  }
  return 'allowed';
}

const source = { namespace: 'b', name: 'policy', generation: 1 };
const allow = (rules: AuthorizationInScope['rules']): AuthorizationInScope => ({ source, action: 'ALLOW', rules });
const deny = (rules: AuthorizationInScope['rules']): AuthorizationInScope => ({ source: { namespace: 'b', name: 'deny', generation: 1 }, action: 'DENY', rules });
const FRONTEND = 'spiffe://cluster.local/ns/a/sa/frontend';
const OTHER = 'spiffe://cluster.local/ns/a/sa/other';
const METHOD = '/demo.Echo/Say';

describe('authorization as RBAC, decided by grpc-js-xds', () => {
  it('ALLOW ns/a/sa/frontend admits that identity and denies another one and plaintext', () => {
    const filters = rbacHttpFilters([allow([{ from: [{ principals: ['cluster.local/ns/a/sa/frontend'] }] }])], 'cluster.local');
    expect(decide(filters, { peer: FRONTEND, path: METHOD })).toBe('allowed');
    expect(decide(filters, { peer: OTHER, path: METHOD })).toBe('denied');
    expect(decide(filters, { path: METHOD })).toBe('denied');
  });

  it('a DENY rule on a path blocks just that path', () => {
    const filters = rbacHttpFilters([deny([{ to: [{ paths: ['/demo.Echo/Admin'] }] }])], 'cluster.local');
    expect(decide(filters, { peer: FRONTEND, path: '/demo.Echo/Admin' })).toBe('denied');
    expect(decide(filters, { peer: FRONTEND, path: METHOD })).toBe('allowed');
    expect(decide(filters, { path: METHOD })).toBe('allowed');
  });

  it('DENY wins over ALLOW', () => {
    const filters = rbacHttpFilters([allow([{}]), deny([{ from: [{ principals: ['cluster.local/ns/a/sa/other'] }] }])], 'cluster.local');
    expect(filters.map((f) => f.name)).toEqual(['weft.rbac.deny', 'weft.rbac.allow']);
    expect(decide(filters, { peer: FRONTEND, path: METHOD })).toBe('allowed');
    expect(decide(filters, { peer: OTHER, path: METHOD })).toBe('denied');
  });

  it('an ALLOW policy without rules allows nothing; no policy allows everything', () => {
    expect(decide(rbacHttpFilters([allow([])], 'cluster.local'), { peer: FRONTEND, path: METHOD })).toBe('denied');
    expect(rbacHttpFilters([], 'cluster.local')).toEqual([]);
  });

  it('namespaces, wildcards, methods and ports combine as from AND to, each list OR', () => {
    const filters = rbacHttpFilters(
      [allow([{ from: [{ namespaces: ['a'] }], to: [{ paths: ['/demo.Echo/*'], methods: ['POST'], ports: [9080] }] }, { from: [{ principals: ['*/sa/batch'] }] }])],
      'cluster.local',
    );
    expect(decide(filters, { peer: FRONTEND, path: METHOD })).toBe('allowed');
    expect(decide(filters, { peer: FRONTEND, path: '/other.Svc/Call' })).toBe('denied');
    expect(decide(filters, { peer: FRONTEND, path: METHOD, port: 9090 })).toBe('denied');
    expect(decide(filters, { peer: 'spiffe://cluster.local/ns/ab/sa/frontend', path: METHOD })).toBe('denied');
    expect(decide(filters, { peer: 'spiffe://cluster.local/ns/z/sa/batch', path: '/any.Svc/X' })).toBe('allowed');
  });

  it('principal `*` means any authenticated peer, never plaintext', () => {
    const filters = rbacHttpFilters([allow([{ from: [{ principals: ['*'] }] }])], 'cluster.local');
    expect(decide(filters, { peer: OTHER, path: METHOD })).toBe('allowed');
    expect(decide(filters, { path: METHOD })).toBe('denied');
  });

  it("Istio's negative matches and source blocks: notPrincipals, notNamespaces, notPaths, notMethods, notPorts, (not)ipBlocks", () => {
    // Denied unless the caller is frontend, or the path is Call: other may call Call, frontend anything.
    const exceptions = rbacHttpFilters([deny([{ from: [{ notPrincipals: ['cluster.local/ns/a/sa/frontend'] }], to: [{ notPaths: [METHOD] }] }])], 'cluster.local');
    expect(decide(exceptions, { peer: OTHER, path: '/demo.Echo/Admin' })).toBe('denied');
    expect(decide(exceptions, { path: '/demo.Echo/Admin' })).toBe('denied'); // plaintext is not frontend either
    expect(decide(exceptions, { peer: OTHER, path: METHOD })).toBe('allowed');
    expect(decide(exceptions, { peer: FRONTEND, path: '/demo.Echo/Admin' })).toBe('allowed');

    const fromA = rbacHttpFilters([deny([{ from: [{ notNamespaces: ['a'] }] }, { to: [{ notMethods: ['POST'] }] }, { to: [{ notPorts: [9080, 9081] }] }])], 'cluster.local');
    expect(decide(fromA, { peer: FRONTEND, path: METHOD })).toBe('allowed');
    expect(decide(fromA, { peer: 'spiffe://cluster.local/ns/b/sa/x', path: METHOD })).toBe('denied');
    expect(decide(fromA, { peer: FRONTEND, path: METHOD, port: 9090 })).toBe('denied');

    const blocks = rbacHttpFilters([allow([{ from: [{ ipBlocks: ['10.1.0.0/16', '127.0.0.6'], notIpBlocks: ['10.1.2.0/24'] }] }])], 'cluster.local');
    expect(decide(blocks, { path: METHOD })).toBe('allowed'); // 127.0.0.6, a block of one
    expect(decide(blocks, { path: METHOD, source: '10.1.9.9' })).toBe('allowed');
    expect(decide(blocks, { path: METHOD, source: '10.1.2.3' })).toBe('denied');
    expect(decide(blocks, { path: METHOD, source: '127.0.0.7' })).toBe('denied');
  });

  it("Istio's when conditions: headers, source and destination attributes, values and notValues", () => {
    const rule = (when: NonNullable<AuthorizationRule['when']>) => rbacHttpFilters([allow([{ to: [{ paths: [METHOD] }], when }])], 'cluster.local');
    const headers = rule([{ key: 'request.headers[X-Foo]', values: ['foo', 'ba*'] }]);
    expect(decide(headers, { peer: OTHER, path: METHOD, headers: { 'x-foo': 'foo' } })).toBe('allowed');
    expect(decide(headers, { peer: OTHER, path: METHOD, headers: { 'x-foo': 'bar' } })).toBe('allowed');
    expect(decide(headers, { peer: OTHER, path: METHOD, headers: { 'x-foo': 'qux' } })).toBe('denied');
    expect(decide(headers, { peer: OTHER, path: METHOD })).toBe('denied');
    const notBar = rule([{ key: 'request.headers[x-foo]', notValues: ['bar'] }]);
    expect(decide(notBar, { path: METHOD, headers: { 'x-foo': 'foo' } })).toBe('allowed');
    expect(decide(notBar, { path: METHOD, headers: { 'x-foo': 'bar' } })).toBe('denied');

    const source = rule([{ key: 'source.ip', values: ['127.0.0.0/24'] }, { key: 'source.namespace', notValues: ['b'] }]);
    expect(decide(source, { peer: FRONTEND, path: METHOD })).toBe('allowed');
    expect(decide(source, { peer: 'spiffe://cluster.local/ns/b/sa/x', path: METHOD })).toBe('denied');
    expect(decide(source, { peer: FRONTEND, path: METHOD, source: '10.0.0.1' })).toBe('denied');
    const principal = rule([{ key: 'source.principal', values: ['cluster.local/ns/a/sa/frontend'] }, { key: 'source.trustDomain', values: ['cluster.local'] }]);
    expect(decide(principal, { peer: FRONTEND, path: METHOD })).toBe('allowed');
    expect(decide(principal, { peer: OTHER, path: METHOD })).toBe('denied');

    const destination = rule([{ key: 'destination.port', values: ['9080'] }, { key: 'destination.ip', notValues: ['10.0.0.0/8'] }]);
    expect(decide(destination, { path: METHOD })).toBe('allowed'); // 127.0.0.5:9080
    expect(decide(destination, { path: METHOD, port: 9090 })).toBe('denied');
  });

  it('hosts and notHosts match the authority, ignoring case, with wildcards at either end', () => {
    const filters = rbacHttpFilters([allow([{ to: [{ hosts: ['echo.example.com', '*.shop.svc', 'api.*'], notHosts: ['api.internal'] }] }])], 'cluster.local');
    expect(decide(filters, { path: METHOD, host: 'Echo.Example.com' })).toBe('allowed');
    expect(decide(filters, { path: METHOD, host: 'cart.shop.svc' })).toBe('allowed');
    expect(decide(filters, { path: METHOD, host: 'api.public' })).toBe('allowed');
    expect(decide(filters, { path: METHOD, host: 'api.internal' })).toBe('denied');
    expect(decide(filters, { path: METHOD, host: 'other.example.com' })).toBe('denied');
  });

  it("Istio's path templates: {*} one segment, {**} any segments (Istio's TestAuthz_PathTemplating cases)", () => {
    const filters = rbacHttpFilters([allow([{ to: [{ paths: ['/allow/admin/{**}', '/foo/{*}/bar/{**}', '/store/{**}/cart'] }] }])], 'cluster.local');
    const cases: Array<[string, 'allowed' | 'denied']> = [
      ['/allow/admin/', 'allowed'],
      ['/allow/admin', 'denied'],
      ['/allow/user/', 'denied'],
      ['/allow/admin/foo/temp.txt', 'allowed'],
      ['/foo/buzz/bar/bat.temp.txt', 'allowed'],
      ['/foo/bar/bat.txt', 'denied'],
      ['/foo//bar/bat.txt', 'denied'],
      ['/store//cart', 'allowed'],
      ['/store/cart', 'denied'],
      ['/store/foo/bar/cart', 'allowed'],
    ];
    expect(cases.map(([path]) => [path, decide(filters, { peer: OTHER, path })])).toEqual(cases);
  });

  it('cluster.local in a principal stands for the mesh trust domain', () => {
    const filters = rbacHttpFilters([allow([{ from: [{ principals: ['cluster.local/ns/a/sa/frontend'] }] }])], 'example.org');
    expect(decide(filters, { peer: 'spiffe://example.org/ns/a/sa/frontend', path: METHOD })).toBe('allowed');
  });
});

// ---------------------------------------------------------------------------------------------------------------

let created = 0;
function policy(namespace: string, name: string, spec: MeshPolicy['spec']): MeshPolicy {
  created++;
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'MeshPolicy',
    metadata: { namespace, name, creationTimestamp: `2026-11-25T10:00:${String(created).padStart(2, '0')}Z` },
    spec,
  };
}

describe('which policies apply to a workload', () => {
  const workload = { namespace: 'b', labels: { app: 'backend' } };

  it('mtls: workload beats namespace beats mesh; the default is PERMISSIVE', () => {
    expect(workloadSecurity([], workload).mtlsMode).toBe('PERMISSIVE');
    const mesh = policy('weft-system', 'mesh', { mtls: { mode: 'STRICT' } });
    const ns = policy('b', 'ns', { mtls: { mode: 'DISABLE' } });
    const wl = policy('b', 'wl', { selector: { matchLabels: { app: 'backend' } }, mtls: { mode: 'PERMISSIVE' } });
    const elsewhere = policy('c', 'other', { mtls: { mode: 'DISABLE' } });
    expect(workloadSecurity([mesh, elsewhere], workload)).toMatchObject({ mtlsMode: 'STRICT', mtlsFrom: { namespace: 'weft-system', name: 'mesh' } });
    expect(workloadSecurity([mesh, ns], workload).mtlsMode).toBe('DISABLE');
    expect(workloadSecurity([mesh, ns, wl], workload).mtlsMode).toBe('PERMISSIVE');
    expect(workloadSecurity([wl], { namespace: 'b', labels: { app: 'x' } }).mtlsMode).toBe('PERMISSIVE');
  });

  it('portLevelMtls: a workload policy sets single ports, over whatever sets the workload\'s mode', () => {
    const ns = policy('b', 'ns', { mtls: { mode: 'STRICT' } });
    const ports = policy('b', 'ports', { selector: { matchLabels: { app: 'backend' } }, portLevelMtls: { '8080': { mode: 'DISABLE' } } });
    const security = workloadSecurity([ns, ports], workload);
    expect(security).toMatchObject({ mtlsMode: 'STRICT', portMtls: { modes: { 8080: 'DISABLE' }, from: { name: 'ports' } } });
    expect([mtlsModeAt(security, 8080), mtlsModeAt(security, 9080)]).toEqual(['DISABLE', 'STRICT']);
    expect(securityPolicies(security).map((p) => p.name)).toEqual(['ns', 'ports']); // both shape the inbound side
    expect(mtlsModeAt(workloadSecurity([ns, ports], { namespace: 'b', labels: { app: 'other' } }), 8080)).toBe('STRICT');
  });

  it('within a scope the oldest policy sets mtls', () => {
    const older = policy('b', 'z-older', { mtls: { mode: 'STRICT' } });
    const newer = policy('b', 'a-newer', { mtls: { mode: 'DISABLE' } });
    expect(workloadSecurity([newer, older], workload).mtlsMode).toBe('STRICT');
  });

  it('authorization: every policy in scope applies', () => {
    const mesh = policy('weft-system', 'deny-admin', { authorization: { action: 'DENY', rules: [{ to: [{ paths: ['/admin'] }] }] } });
    const ns = policy('b', 'allow-a', { authorization: { action: 'ALLOW', rules: [{ from: [{ namespaces: ['a'] }] }] } });
    const other = policy('c', 'allow-c', { authorization: { action: 'ALLOW' } });
    const { authorizations } = workloadSecurity([mesh, ns, other], workload);
    expect(authorizations.map((a) => `${a.action} ${a.source.namespace}/${a.source.name}`)).toEqual(['DENY weft-system/deny-admin', 'ALLOW b/allow-a']);
  });
});

describe('rateLimit and telemetry per workload', () => {
  const workload = { namespace: 'b', labels: { app: 'backend' } };
  it('each is owned by the most specific scope that sets it, the oldest policy within it, independently of mtls', () => {
    const mesh = policy('weft-system', 'mesh', { rateLimit: { requestsPerUnit: 1, unit: 'SECOND' }, telemetry: { accessLog: { enabled: true } } });
    const nsOlder = policy('b', 'ns-older', { rateLimit: { requestsPerUnit: 2, unit: 'SECOND' } });
    const nsNewer = policy('b', 'ns-newer', { rateLimit: { requestsPerUnit: 3, unit: 'SECOND' }, mtls: { mode: 'STRICT' } });
    const wl = policy('b', 'wl', { selector: { matchLabels: { app: 'backend' } }, telemetry: { accessLog: { enabled: false } } });
    const s = workloadSecurity([wl, nsNewer, mesh, nsOlder], workload);
    expect(s.rateLimit).toEqual({ spec: { requestsPerUnit: 2, unit: 'SECOND' }, from: { namespace: 'b', name: 'ns-older', generation: 0 } });
    expect(s.telemetry).toEqual({ spec: { accessLog: { enabled: false } }, from: { namespace: 'b', name: 'wl', generation: 0 } });
    expect(s.mtlsMode).toBe('STRICT');
    expect(workloadSecurity([mesh], workload).rateLimit?.from.name).toBe('mesh');
    expect(workloadSecurity([], workload)).toEqual({ mtlsMode: 'PERMISSIVE', authorizations: [] });
  });
});

describe('authorization on TCP ports (network RBAC)', () => {
  const names = (filters: ProtoMessage[]) => filters.map((f) => f.name);
  const policiesOf = (f: ProtoMessage) => ((f.typed_config as ProtoMessage).rules as { policies: Record<string, ProtoMessage> }).policies;
  it('keeps peers and ports; every filter is a valid network RBAC', () => {
    const filters = rbacNetworkFilters([deny([{ from: [{ namespaces: ['z'] }] }]), allow([{ from: [{ principals: ['*'] }], to: [{ ports: [5432] }] }])], 'cluster.local', 'inbound|5432||');
    expect(names(filters)).toEqual(['weft.rbac.deny', 'weft.rbac.allow']);
    for (const f of filters) expect(checkMessage('envoy.config.listener.v3.Filter', f)).toEqual([]);
    expect(Object.values(policiesOf(filters[1]!))[0]).toMatchObject({ permissions: [{ destination_port: 5432 }] });
  });
  it('an ALLOW rule that needs a path or method matches no connection; a DENY rule loses those conditions', () => {
    const [allowFilter] = rbacNetworkFilters([allow([{ to: [{ paths: ['/x'] }] }, { to: [{ methods: ['GET'] }, { ports: [1] }] }])], 'cluster.local', 's');
    const allowed = Object.values(policiesOf(allowFilter!));
    expect(allowed).toHaveLength(1);
    expect(allowed[0]).toMatchObject({ permissions: [{ destination_port: 1 }] });
    const [denyFilter] = rbacNetworkFilters([deny([{ to: [{ paths: ['/admin'], ports: [7] }] }, { to: [{ methods: ['DELETE'] }] }])], 'cluster.local', 's');
    expect(Object.values(policiesOf(denyFilter!)).map((p) => p.permissions)).toEqual([[{ destination_port: 7 }], [{ any: true }]]);
    // The negative forms alike: notPaths and notMethods are HTTP's, notPorts stays.
    const [negative] = rbacNetworkFilters([deny([{ to: [{ notPaths: ['/admin'], notPorts: [7] }] }, { to: [{ notMethods: ['GET'] }] }])], 'cluster.local', 's');
    expect(Object.values(policiesOf(negative!)).map((p) => p.permissions)).toEqual([[{ not_rule: { destination_port: 7 } }], [{ any: true }]]);
    expect(rbacNetworkFilters([allow([{ to: [{ notPaths: ['/x'] }] }])], 'cluster.local', 's')[0]).toMatchObject({ typed_config: { rules: { policies: {} } } });
    // A request header is HTTP's too; a connection's SNI is not.
    const when = [{ key: 'request.headers[x-a]', values: ['1'] }, { key: 'connection.sni', values: ['a.example'] }];
    expect(rbacNetworkFilters([allow([{ when }])], 'cluster.local', 's')[0]).toMatchObject({ typed_config: { rules: { policies: {} } } });
    const [sni] = rbacNetworkFilters([deny([{ when }])], 'cluster.local', 's');
    expect(Object.values(policiesOf(sni!)).map((p) => p.permissions)).toEqual([[{ and_rules: { rules: [{ any: true }, { requested_server_name: { exact: 'a.example' } }] } }]]);
  });
});
