// A gateway proxy's configuration (router mode) as plain Envoy v3 messages: one listener per port, TLS
// termination with certificates from Kubernetes Secrets delivered over SDS, SNI to tell TLS servers apart, HTTPS
// redirect, and virtual hosts for the VirtualServices bound to the Gateway (`gateways: [name]`). Pure: the xDS
// server supplies the inputs, including how a VirtualService's http rules become Envoy routes, and encodes the
// result (see docs/gateways.md, "For the xDS server").
import { canonicalProtocol, isPlainHttpProtocol, type Gateway, type L4MatchAttributes, type RouteDestination, type Server, type VirtualService } from '../../api/index.js';
import { bareHost, hostMatches } from '../../mesh/hosts.js';
import { selects } from '../../mesh/labels.js';
import type { MeshRef } from '../../mesh/model/index.js';
import { olderFirst } from '../../mesh/verdict.js';
import { gatewaysOf, qualifyGatewayName } from '../../mesh/virtualservice.js';
import { ExtensionType, TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { envoyRouteFilters } from './http-filters.js';
import type { Generated } from './types.js';

/** The parts of a kubernetes.io/tls Secret the gateway reads: base64 `tls.crt`, `tls.key`, optional `ca.crt`. */
export interface TlsSecretData {
  data?: Record<string, string>;
}

export interface GatewayXdsInput {
  /** The accepted Gateways that select this proxy's pods (gatewaysSelecting), merged as one configuration. */
  gateways: readonly Gateway[];
  /** Accepted VirtualServices; only those bound to one of `gateways` are used. */
  virtualServices: readonly VirtualService[];
  secret(namespace: string, name: string): TlsSecretData | undefined;
  /** Envoy routes for `vs`'s http rules as served on gateway port `port`: the xDS server's route generator. */
  httpRoutes(vs: VirtualService, port: number): ProtoMessage[];
  /** The delegate VirtualServices whose routes `vs`'s routes carry (they are sources of the routes too). */
  delegates?(vs: VirtualService): VirtualService[];
  /** A tcp_proxy's target (`cluster` or `weighted_clusters`) for `vs`'s L4 destinations, from gateway port `port`. */
  tcpTarget(vs: VirtualService, destinations: readonly RouteDestination[], port: number): ProtoMessage;
}

/** Istio's SDS name for a credential Secret, namespaced so two namespaces' `tls-cert`s never collide. */
export function sdsSecretName(namespace: string, credentialName: string): string {
  return `kubernetes://${namespace}/${credentialName}`;
}

/** The Gateways whose selector selects a pod with `podLabels` (several Gateways may configure one workload). */
export function gatewaysSelecting(podLabels: Record<string, string>, gateways: readonly Gateway[]): Gateway[] {
  return gateways.filter((gw) => gw.spec.selector && Object.keys(gw.spec.selector).length > 0 && selects(gw.spec.selector, podLabels)).sort(olderFirst);
}

/** A server as the proxy sees it: which Gateway it came from, where it listens, and how its traffic is handled. */
interface BoundServer {
  gateway: Gateway;
  server: Server;
  index: number;
  listenPort: number;
  /** http: HTTP routes; terminate: TLS ended here, then HTTP routes; passthrough: by SNI to VirtualService tls routes; tcp: to tcp routes. */
  mode: 'http' | 'terminate' | 'passthrough' | 'tcp';
  /** Set for servers that terminate TLS with resolved credentials: SDS names and the Secrets they come from. */
  tls?: { certificates: Array<{ sdsName: string; secret: string }>; ca?: { sdsName: string; secret: string } };
}

/**
 * Listeners, route configurations and secrets for one gateway proxy. Servers Weft cannot serve are left out, so
 * they never hold the rest back: a TLS server whose Secret is missing (its listener would wait for the secret
 * forever; the Gateway's ResolvedRefs reports it), AUTO_PASSTHROUGH, ISTIO_MUTUAL, TLS termination of plain TCP,
 * and file-based certificates.
 */
export function gatewayXds(input: GatewayXdsInput): Generated[] {
  const servers = input.gateways.flatMap((gateway) => gateway.spec.servers.flatMap((server, index) => boundServer(gateway, server, index, input)));
  const byPort = new Map<number, BoundServer[]>();
  for (const s of servers) byPort.set(s.listenPort, [...(byPort.get(s.listenPort) ?? []), s]);
  const resources: Generated[] = [];
  for (const [port, onPort] of [...byPort].sort(([a], [b]) => a - b)) resources.push(...portResources(port, onPort, input));
  resources.push(...secretResources(servers, input));
  return resources;
}

function boundServer(gateway: Gateway, server: Server, index: number, input: GatewayXdsInput): BoundServer[] {
  const listenPort = server.port.targetPort ?? server.port.number;
  const protocol = canonicalProtocol(server.port.protocol);
  if (isPlainHttpProtocol(protocol)) return [{ gateway, server, index, listenPort, mode: 'http' }];
  if (protocol === 'TCP' || protocol === 'MONGO') return [{ gateway, server, index, listenPort, mode: 'tcp' }];
  if ((protocol === 'TLS' || protocol === 'HTTPS') && server.tls?.mode === 'PASSTHROUGH') return [{ gateway, server, index, listenPort, mode: 'passthrough' }];
  const credentials = server.tls?.credentialNames ?? (server.tls?.credentialName ? [server.tls.credentialName] : []);
  if (protocol !== 'HTTPS' || !terminatesTls(server) || credentials.length === 0) return [];
  const namespace = gateway.metadata.namespace!;
  const hasCertificate = (name: string) => {
    const data = input.secret(namespace, name)?.data;
    return Boolean(data?.['tls.crt'] && data['tls.key']);
  };
  if (!credentials.every(hasCertificate)) return [];
  const certificates = credentials.map((c) => ({ sdsName: sdsSecretName(namespace, c), secret: c }));
  const mutual = server.tls!.mode === 'MUTUAL' || server.tls!.mode === 'OPTIONAL_MUTUAL';
  if (!mutual) return [{ gateway, server, index, listenPort, mode: 'terminate', tls: { certificates } }];
  // Client certificates are verified against caCertCredentialName's ca.crt, else the (first) credential's.
  const caSecret = server.tls!.caCertCredentialName ?? credentials[0]!;
  if (!input.secret(namespace, caSecret)?.data?.['ca.crt']) return []; // client certificates cannot be verified without a CA
  const ca = { sdsName: sdsSecretName(namespace, `${caSecret}-cacert`), secret: caSecret };
  return [{ gateway, server, index, listenPort, mode: 'terminate', tls: { certificates, ca } }];
}

/** SIMPLE and MUTUAL end TLS at the gateway; PASSTHROUGH forwards it by SNI (AUTO_PASSTHROUGH: not generated yet). */
function terminatesTls(server: Server): boolean {
  const mode = server.tls?.mode ?? 'SIMPLE';
  return mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
}

function gatewayRef(gw: Gateway): MeshRef {
  return { kind: 'Gateway', namespace: gw.metadata.namespace!, name: gw.metadata.name!, generation: gw.metadata.generation ?? 0 };
}

// ---------------------------------------------------------------------------------------------------------------
// Listeners and routes.

export function listenerName(port: number): string {
  return `0.0.0.0_${port}`;
}

/** Plain HTTP servers of a port share one route configuration, as in Istio. */
export function plainRouteName(port: number): string {
  return `http.${port}`;
}

/** Each TLS server has its own routes: its SNI filter chain decides the hosts. */
export function tlsRouteName(s: { gateway: Gateway; index: number; listenPort: number }): string {
  return `https.${s.listenPort}.${s.gateway.metadata.namespace}.${s.gateway.metadata.name}.${s.index}`;
}

function portResources(port: number, servers: BoundServer[], input: GatewayXdsInput): Generated[] {
  const plain = servers.filter((s) => s.mode === 'http');
  const secure = servers.filter((s) => s.mode === 'terminate');
  const passthrough = passthroughChains(servers.filter((s) => s.mode === 'passthrough'), input);
  const inspectsTls = secure.length > 0 || passthrough.chains.length > 0;
  const chains: ProtoMessage[] = [];
  const routes: Generated[] = [];
  const sources = servers.map((s) => gatewayRef(s.gateway));
  if (plain.length > 0) {
    const name = plainRouteName(port);
    routes.push(routeConfiguration(name, plain, input));
    chains.push({
      ...(inspectsTls ? { filter_chain_match: { transport_protocol: 'raw_buffer' } } : {}),
      filters: [httpConnectionManager(name, port)],
    });
  } else {
    // Opaque TCP has no header to route by: one TCP server per port, and only where plain HTTP does not listen.
    const tcp = tcpChain(servers.filter((s) => s.mode === 'tcp'), input);
    if (tcp) {
      chains.push({ ...(inspectsTls ? { filter_chain_match: { transport_protocol: 'raw_buffer' } } : {}), filters: [tcp.filter] });
      sources.push(...tcp.sources);
    }
  }
  for (const s of secure) {
    const name = tlsRouteName(s);
    routes.push(routeConfiguration(name, [s], input));
    const serverNames = s.server.hosts.map(bareHost).filter((h) => h !== '*');
    chains.push({
      filter_chain_match: { transport_protocol: 'tls', ...(serverNames.length > 0 ? { server_names: serverNames } : {}) },
      transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: downstreamTls(s) },
      filters: [httpConnectionManager(name, port)],
    });
  }
  chains.push(...passthrough.chains);
  sources.push(...passthrough.sources);
  // Envoy refuses a listener without filter chains (e.g. a passthrough server no VirtualService routes yet).
  if (chains.length === 0) return [];
  const listener: ProtoMessage = {
    name: listenerName(port),
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    traffic_direction: 'INBOUND',
    ...(inspectsTls ? { listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': ExtensionType.tlsInspector } }] } : {}),
    filter_chains: chains,
  };
  return [{ typeUrl: TypeUrl.listener, name: listenerName(port), message: listener, sources: uniqueRefs(sources) }, ...routes];
}

/** Whether an L4 match of `vs` applies to server `s`: its gateways (if any) name the server's Gateway, its port (if any) is the server's. */
function l4MatchApplies(m: L4MatchAttributes, vs: VirtualService, s: BoundServer): boolean {
  const ns = vs.metadata.namespace!;
  const ref = `${s.gateway.metadata.namespace}/${s.gateway.metadata.name}`;
  const gatewayOk = !m.gateways || m.gateways.length === 0 || m.gateways.some((g) => qualifyGatewayName(g, ns) === ref);
  return gatewayOk && (m.port === undefined || m.port === s.server.port.number);
}

function vsRef(vs: VirtualService): MeshRef {
  return { kind: 'VirtualService', namespace: vs.metadata.namespace!, name: vs.metadata.name!, generation: vs.metadata.generation ?? 0 };
}

function tcpProxyFilter(statPrefix: string, target: ProtoMessage): ProtoMessage {
  return { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': ExtensionType.tcpProxy, stat_prefix: statPrefix, ...target } };
}

/**
 * TLS passthrough: a filter chain per SNI set, from the `tls` routes of the VirtualServices bound to each server
 * (their `sniHosts` that the server's hosts admit), forwarded untouched over TCP. An SNI name goes to the first
 * claim (oldest VirtualService, then route order), as Envoy refuses two chains with the same match.
 */
function passthroughChains(servers: BoundServer[], input: GatewayXdsInput): { chains: ProtoMessage[]; sources: MeshRef[] } {
  const taken = new Set<string>();
  const chains: ProtoMessage[] = [];
  const sources: MeshRef[] = [];
  for (const s of servers) {
    for (const vs of boundVirtualServices(s, input.virtualServices)) {
      for (const route of vs.spec.tls ?? []) {
        const names = route.match
          .filter((m) => l4MatchApplies(m, vs, s))
          .flatMap((m) => admittedNames(s.server, vs, m.sniHosts))
          .filter((name) => !taken.has(name));
        if (names.length === 0) continue;
        for (const name of names) taken.add(name);
        chains.push({
          filter_chain_match: { transport_protocol: 'tls', server_names: [...new Set(names)] },
          filters: [tcpProxyFilter(`gateway_${s.listenPort}_passthrough`, input.tcpTarget(vs, route.route, s.server.port.number))],
        });
        sources.push(vsRef(vs));
      }
    }
  }
  return { chains, sources };
}

/** The first TCP server's first applicable `tcp` route (oldest bound VirtualService first). */
function tcpChain(servers: BoundServer[], input: GatewayXdsInput): { filter: ProtoMessage; sources: MeshRef[] } | undefined {
  for (const s of servers) {
    for (const vs of boundVirtualServices(s, input.virtualServices)) {
      const route = (vs.spec.tcp ?? []).find((r) => !r.match || r.match.length === 0 || r.match.some((m) => l4MatchApplies(m, vs, s)));
      if (route) return { filter: tcpProxyFilter(`gateway_${s.listenPort}_tcp`, input.tcpTarget(vs, route.route, s.server.port.number)), sources: [vsRef(vs)] };
    }
  }
  return undefined;
}

/** Names from `names` (VirtualService hosts or SNI hosts) that a server host admits, the more specific of each pair. */
function admittedNames(server: Server, vs: VirtualService, names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const serverHost of server.hosts) {
    if (!namespaceAdmits(serverHost, vs.metadata.namespace!, '')) continue;
    const pattern = bareHost(serverHost);
    for (const name of names) {
      if (hostMatches(pattern, name)) out.add(name);
      else if (hostMatches(name, pattern)) out.add(pattern);
    }
  }
  return [...out];
}

function httpConnectionManager(routeName: string, port: number): ProtoMessage {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': ExtensionType.httpConnectionManager,
      stat_prefix: `gateway_${port}`,
      rds: { route_config_name: routeName, config_source: { ads: {}, resource_api_version: 'V3' } },
      http_filters: envoyRouteFilters(),
      // A gateway is the edge: it sets X-Forwarded-For and trusts no client's.
      use_remote_address: { value: true },
    },
  };
}

const TLS_VERSION: Record<string, string> = { TLS_AUTO: 'TLS_AUTO', TLSV1_0: 'TLSv1_0', TLSV1_1: 'TLSv1_1', TLSV1_2: 'TLSv1_2', TLSV1_3: 'TLSv1_3' };

function downstreamTls(s: BoundServer): ProtoMessage {
  const tls = s.server.tls!;
  const params: ProtoMessage = {
    ...(tls.minProtocolVersion ? { tls_minimum_protocol_version: TLS_VERSION[tls.minProtocolVersion] } : {}),
    ...(tls.maxProtocolVersion ? { tls_maximum_protocol_version: TLS_VERSION[tls.maxProtocolVersion] } : {}),
    ...(tls.cipherSuites?.length ? { cipher_suites: [...tls.cipherSuites] } : {}),
  };
  const sds = (name: string): ProtoMessage => ({ name, sds_config: { ads: {}, resource_api_version: 'V3' } });
  // Client certificates are verified against the credential's ca.crt (subjectAltNames/SPKI/hash pinning: not yet).
  const validation: ProtoMessage | undefined = s.tls!.ca ? { validation_context_sds_secret_config: sds(s.tls!.ca.sdsName) } : undefined;
  return {
    '@type': ExtensionType.downstreamTls,
    common_tls_context: {
      ...(Object.keys(params).length > 0 ? { tls_params: params } : {}),
      // Two certificates (credentialNames: e.g. RSA and ECDSA): Envoy picks per handshake what the client supports.
      tls_certificate_sds_secret_configs: s.tls!.certificates.map((c) => sds(c.sdsName)),
      ...(validation ?? {}),
      alpn_protocols: ['h2', 'http/1.1'],
    },
    ...(tls.mode === 'MUTUAL' ? { require_client_certificate: { value: true } } : {}),
  };
}

/**
 * One route configuration for the servers of a port (plain HTTP) or for one TLS server: a virtual host per host
 * name, as Istio builds them, whose routes are those of every bound VirtualService naming the host, the oldest
 * first (Istio merges VirtualServices at gateways; the first route that matches wins). An httpsRedirect server's
 * hosts only redirect.
 */
function routeConfiguration(name: string, servers: BoundServer[], input: GatewayXdsInput): Generated {
  const byHost = new Map<string, ProtoMessage & { routes?: ProtoMessage[] }>();
  const sources: MeshRef[] = servers.map((s) => gatewayRef(s.gateway));
  const virtualHost = (host: string, port: number) => {
    let vhost = byHost.get(host);
    if (!vhost) {
      vhost = { name: `${host}:${port}`, domains: host === '*' ? [host] : [host, `${host}:${port}`] };
      byHost.set(host, vhost);
    }
    return vhost;
  };
  for (const s of servers) {
    const port = s.server.port.number;
    if (s.server.tls?.httpsRedirect) {
      for (const host of s.server.hosts.map(bareHost)) {
        const vhost = virtualHost(host, port);
        vhost.require_tls = 'ALL';
        delete vhost.routes;
      }
      continue;
    }
    for (const vs of boundVirtualServices(s, input.virtualServices)) {
      const hosts = admittedNames(s.server, vs, vs.spec.hosts ?? []);
      if (hosts.length === 0) continue;
      const routes = input.httpRoutes(vs, port);
      for (const host of hosts) {
        const vhost = virtualHost(host, port);
        if (vhost.require_tls === 'ALL') continue; // redirected: no routes
        (vhost.routes ??= []).push(...routes);
      }
      sources.push(vsRef(vs), ...(input.delegates?.(vs) ?? []).map(vsRef));
    }
  }
  return {
    typeUrl: TypeUrl.route,
    name,
    message: { name, virtual_hosts: [...byHost.values()], validate_clusters: { value: false } },
    sources: uniqueRefs(sources),
  };
}

/** VirtualServices that name the server's Gateway and live in a namespace its hosts admit, oldest first. */
function boundVirtualServices(s: BoundServer, virtualServices: readonly VirtualService[]): VirtualService[] {
  const ref = `${s.gateway.metadata.namespace}/${s.gateway.metadata.name}`;
  return virtualServices
    .filter((vs) => gatewaysOf(vs).some((g) => g.ref === ref))
    .filter((vs) => s.server.hosts.some((h) => namespaceAdmits(h, vs.metadata.namespace!, s.gateway.metadata.namespace!)))
    .sort(olderFirst);
}

/** A server host's `namespace/` prefix: `*` or none admits any namespace, `.` the Gateway's own, `~` none. */
function namespaceAdmits(serverHost: string, vsNamespace: string, gatewayNamespace: string): boolean {
  const slash = serverHost.indexOf('/');
  if (slash < 0) return true;
  const ns = serverHost.slice(0, slash);
  if (ns === '*') return true;
  if (ns === '~') return false;
  if (ns === '.') return gatewayNamespace === '' || vsNamespace === gatewayNamespace;
  return ns === vsNamespace;
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets (SDS).

function secretResources(servers: BoundServer[], input: GatewayXdsInput): Generated[] {
  const out = new Map<string, Generated>();
  const add = (namespace: string, secret: string, sdsName: string, message: (data: Record<string, string>) => ProtoMessage) => {
    if (out.has(sdsName)) return;
    const data = input.secret(namespace, secret)!.data!;
    const source: MeshRef = { kind: 'Secret', namespace, name: secret, generation: 0 };
    out.set(sdsName, { typeUrl: TypeUrl.secret, name: sdsName, message: { name: sdsName, ...message(data) }, sources: [source] });
  };
  for (const s of servers) {
    if (!s.tls) continue;
    const namespace = s.gateway.metadata.namespace!;
    // bytes fields take base64 in protobufjs's object form: the Secret's data is already that.
    for (const c of s.tls.certificates) {
      add(namespace, c.secret, c.sdsName, (data) => ({ tls_certificate: { certificate_chain: { inline_bytes: data['tls.crt']! }, private_key: { inline_bytes: data['tls.key']! } } }));
    }
    if (s.tls.ca) add(namespace, s.tls.ca.secret, s.tls.ca.sdsName, (data) => ({ validation_context: { trusted_ca: { inline_bytes: data['ca.crt']! } } }));
  }
  return [...out.values()];
}

function uniqueRefs(refs: MeshRef[]): MeshRef[] {
  const seen = new Map<string, MeshRef>();
  for (const r of refs) seen.set(`${r.kind}/${r.namespace}/${r.name}`, r);
  return [...seen.values()];
}
