// Envoy sidecars, in Istio's shape: traffic is captured (iptables) into virtualOutbound (15001) and virtualInbound
// (15006). Outbound, each HTTP port has a listener `0.0.0.0_<port>` whose routes (RDS `<port>`) hold one virtual
// host per service on that port; TCP ports of services with addresses get a listener per address. Inbound, a
// filter chain per port the sidecar's own workload serves hands traffic to `inbound|<port>||` on 127.0.0.1.
import { isIP } from 'node:net';
import { isTcpProtocol } from '../../api/index.js';
import { DEFAULT_TRUST_DOMAIN } from '../../ca/spiffe.js';
import { serviceOfHost } from '../../mesh/hosts.js';
import { routingSources, type MeshModel, type MeshRef, type ServiceModel, type ServicePortModel } from '../../mesh/model/index.js';
import {
  envoyCredentialSecrets,
  envoyDownstreamTransportSocket,
  rbacHttpFilters,
  rbacNetworkFilters,
  type MtlsMode,
} from '../../security/index.js';
import { mtlsModeAt, type WorkloadSecurity } from '../../mesh/policy.js';
import { ExtensionType, TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { isHttp2, serviceClusters } from './clusters.js';
import { endpointPort, serviceEndpoints } from './endpoints.js';
import { duration } from './duration.js';
import { ADS, envoyRouteFilters, httpFilters } from './http-filters.js';
import {
  BLACKHOLE_CLUSTER,
  envoyOutboundListener,
  envoyOutboundRoutes,
  envoyVirtualHostName,
  inboundCluster,
  outboundCluster,
  PASSTHROUGH_CLUSTER,
  VIRTUAL_INBOUND,
  VIRTUAL_OUTBOUND,
} from './names.js';
import { effectivePolicy } from './policy.js';
import { destinationCluster, httpRoutes } from './routes.js';
import { accessLogs, localRateLimitFilter, tracing } from './telemetry.js';
import { policySources, uniqueSources, type Generated } from './types.js';

export const OUTBOUND_CAPTURE_PORT = 15001;
export const INBOUND_CAPTURE_PORT = 15006;
const CONNECT_TIMEOUT = { seconds: 10 };

/** One service's virtual host on one of its HTTP ports, to be gathered into that port's route configuration. */
export interface VirtualHostPart {
  host: string;
  port: number;
  message: ProtoMessage;
  sources: MeshRef[];
}

function socketAddress(address: string, port: number): ProtoMessage {
  return { socket_address: { address, port_value: port } };
}

function tcpProxy(statPrefix: string, cluster: ProtoMessage): ProtoMessage {
  return { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': ExtensionType.tcpProxy, stat_prefix: statPrefix, ...cluster } };
}

/** Names a client may use for a host: the FQDN and, for a Kubernetes-style name, `name.ns` and `name.ns.svc`. */
function domains(host: string, port: number): string[] {
  const names = [host];
  const svc = serviceOfHost(host);
  if (svc) names.push(`${svc.name}.${svc.namespace}`, `${svc.name}.${svc.namespace}.svc`);
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/** A service's clusters, endpoints and TCP listeners, and its virtual hosts for the per-port route configurations. */
export function envoyServiceResources(service: ServiceModel, model: MeshModel): { resources: Generated[]; virtualHosts: VirtualHostPart[] } {
  const resources: Generated[] = [...serviceClusters(service, 'envoy'), ...serviceEndpoints(service)];
  const virtualHosts: VirtualHostPart[] = [];
  for (const port of service.ports) {
    if (isTcpProtocol(port.protocol)) {
      resources.push(...tcpListeners(service, port, model));
      continue;
    }
    const { routes, sources } = httpRoutes({ flavor: 'envoy', model, service, port });
    virtualHosts.push({
      host: service.host,
      port: port.number,
      message: { name: `${service.host}:${port.number}`, domains: domains(service.host, port.number), routes },
      sources: uniqueSources([service.declaredBy, ...routingSources(service), ...sources]),
    });
  }
  return { resources, virtualHosts };
}

/** TCP has no Host header: a listener per service address tells services apart (none without an address). */
function tcpListeners(service: ServiceModel, port: ServicePortModel, model: MeshModel): Generated[] {
  const route = service.routing?.tcp.find((r) => !r.match || r.match.some((m) => m.port === undefined || m.port === port.number));
  const ctx = { flavor: 'envoy' as const, model, service, port };
  let target: ProtoMessage = { cluster: outboundCluster(service.host, port.number) };
  if (route && route.route.length === 1) target = { cluster: destinationCluster(route.route[0]!.destination, ctx) };
  else if (route) {
    target = { weighted_clusters: { clusters: route.route.map((d) => ({ name: destinationCluster(d.destination, ctx), weight: d.weight ?? 0 })) } };
  }
  // The DestinationRule's TCP idle timeout and connection lifetime bound the proxied connection (as Istio's).
  const tcp = effectivePolicy(service, port.number).connectionPool?.tcp;
  if (tcp?.idleTimeout) target.idle_timeout = duration(tcp.idleTimeout);
  if (tcp?.maxConnectionDuration) target.max_downstream_connection_duration = duration(tcp.maxConnectionDuration);
  const policy = tcp?.idleTimeout || tcp?.maxConnectionDuration ? [service.policy!.source] : [];
  const sources = uniqueSources([service.declaredBy, ...routingSources(service), ...policy]);
  return (service.addresses ?? [])
    .filter((a) => isIP(a))
    .map((address) => {
      const name = `${address}_${port.number}`;
      return {
        typeUrl: TypeUrl.listener,
        name,
        message: {
          name,
          address: socketAddress(address, port.number),
          bind_to_port: { value: false },
          traffic_direction: 'OUTBOUND',
          filter_chains: [{ filters: [tcpProxy(`outbound|${port.number}||${service.host}`, target)] }],
        },
        sources,
      };
    });
}

/** The outbound listener of an HTTP port: its routes come by RDS, inline or VHDS depending on the sidecar. */
export function envoyPortListener(port: number): Generated {
  const listener = envoyOutboundListener(port);
  return {
    typeUrl: TypeUrl.listener,
    name: listener,
    message: {
      name: listener,
      address: socketAddress('0.0.0.0', port),
      bind_to_port: { value: false }, // reached through virtualOutbound's original destination
      traffic_direction: 'OUTBOUND',
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': ExtensionType.httpConnectionManager,
                stat_prefix: `outbound_${listener}`,
                rds: { route_config_name: envoyOutboundRoutes(port), config_source: ADS },
                http_filters: envoyRouteFilters(),
              },
            },
          ],
        },
      ],
    },
    sources: [],
  };
}

/** The route configuration of an HTTP port with every service's virtual host inline (Envoy on SotW). */
export function envoyPortRoutes(port: number, virtualHosts: readonly VirtualHostPart[]): Generated {
  const routes = envoyOutboundRoutes(port);
  const sorted = [...virtualHosts].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  return {
    typeUrl: TypeUrl.route,
    name: routes,
    message: { name: routes, virtual_hosts: sorted.map((v) => v.message), validate_clusters: { value: false } },
    sources: uniqueSources(sorted.flatMap((v) => v.sources)),
  };
}

/** The outbound listener and inline route configuration of an HTTP port. */
export function envoyPortResources(port: number, virtualHosts: readonly VirtualHostPart[]): Generated[] {
  return [envoyPortListener(port), envoyPortRoutes(port, virtualHosts)];
}

/**
 * The route configuration of an HTTP port for Envoy on delta xDS: no virtual hosts inline, VHDS instead. Envoy
 * subscribes to the configuration's name and gets every `<port>/<host>` virtual host, then only those that change:
 * a one-service change is one virtual host on the wire, not the port's thousand.
 */
export function envoyVhdsRoutes(port: number): Generated {
  const name = envoyOutboundRoutes(port);
  return {
    typeUrl: TypeUrl.route,
    name,
    message: { name, vhds: { config_source: ADS }, validate_clusters: { value: false } },
    sources: [],
  };
}

/** One service's virtual host on one port, as a VHDS resource. */
export function envoyVirtualHost(part: VirtualHostPart): Generated {
  return { typeUrl: TypeUrl.virtualHost, name: envoyVirtualHostName(part.port, part.host), message: part.message, sources: part.sources };
}

/** What every sidecar has: the outbound capture listener and the passthrough and black-hole clusters. */
export function envoyStaticResources(): Generated[] {
  return [
    {
      typeUrl: TypeUrl.listener,
      name: VIRTUAL_OUTBOUND,
      message: {
        name: VIRTUAL_OUTBOUND,
        address: socketAddress('0.0.0.0', OUTBOUND_CAPTURE_PORT),
        use_original_dst: { value: true },
        traffic_direction: 'OUTBOUND',
        filter_chains: [{ name: 'PassthroughFilterChain', filters: [tcpProxy(PASSTHROUGH_CLUSTER, { cluster: PASSTHROUGH_CLUSTER })] }],
      },
      sources: [],
    },
    {
      typeUrl: TypeUrl.cluster,
      name: PASSTHROUGH_CLUSTER,
      message: { name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: CONNECT_TIMEOUT },
      sources: [],
    },
    {
      typeUrl: TypeUrl.cluster,
      name: BLACKHOLE_CLUSTER,
      message: { name: BLACKHOLE_CLUSTER, type: 'STATIC', connect_timeout: CONNECT_TIMEOUT },
      sources: [],
    },
  ];
}

/**
 * A sidecar's inbound side, for the workload at `ips`: filter chains and an `inbound|port||` cluster per port its
 * endpoints serve, with the workload's MeshPolicy settings (src/mesh/model: EndpointModel.security):
 *
 * - mtls STRICT: one chain whose DownstreamTlsContext requires a client certificate (plaintext fails the handshake);
 *   PERMISSIVE: `tls_inspector` tells the two apart, a `tls` chain with that TLS and a `raw_buffer` plaintext
 *   chain, as Istio does; DISABLE: plaintext. The certificates are SDS secrets over the agent's files
 *   (src/security/envoy-tls.ts), sent with the rest.
 * - authorization: RBAC filters (DENY, then ALLOW) before the router, or network RBAC before a TCP proxy.
 * - rateLimit: a local rate limit filter; telemetry: a stdout access log and tracing, with the collector's cluster.
 *
 * Only the inbound side carries them: outbound listeners are shared by every sidecar with a service on the port, so
 * they cannot hold one workload's settings.
 */
export function envoyInboundResources(ips: readonly string[], model: MeshModel, trustDomain = DEFAULT_TRUST_DOMAIN): Generated[] {
  const ports = new Map<number, { protocol: ServicePortModel['protocol']; sources: MeshRef[]; security?: WorkloadSecurity; service: string }>();
  for (const service of model.services()) {
    for (const e of service.endpoints) {
      if (!ips.includes(e.address)) continue;
      for (const port of service.ports) {
        const target = endpointPort(e, port);
        if (target === undefined) continue;
        const entry = ports.get(target) ?? { protocol: port.protocol, sources: [], service: service.host, ...(e.security ? { security: e.security } : {}) };
        entry.sources.push(service.declaredBy, e.source, ...policySources(e.security));
        ports.set(target, entry);
      }
    }
  }
  const chains: ProtoMessage[] = [];
  const out: Generated[] = [];
  let inspectTls = false;
  for (const [port, { protocol, sources, security, service }] of [...ports].sort((a, b) => a[0] - b[0])) {
    const cluster = inboundCluster(port);
    // Spans come from HTTP connection managers only: a TCP port needs no collector.
    const trace = isTcpProtocol(protocol) ? undefined : tracing(security?.telemetry?.spec, service, uniqueSources(sources));
    if (trace && !out.some((g) => g.name === trace.cluster.name)) out.push(trace.cluster);
    const filters = (chainName: string) => inboundFilters({ protocol, cluster, chainName, trustDomain, ...(security ? { security } : {}), ...(trace ? { tracing: trace.hcm } : {}) });
    const mode = mtlsModeAt(security, port);
    for (const chain of inboundChains(mode)) {
      const name = `${cluster}${chain.name}`;
      chains.push({
        name,
        filter_chain_match: { destination_port: { value: port }, ...(chain.transportProtocol ? { transport_protocol: chain.transportProtocol } : {}) },
        filters: filters(name),
        ...(chain.tls ? { transport_socket: envoyDownstreamTransportSocket() } : {}),
      });
      if (chain.transportProtocol) inspectTls = true;
    }
    const clusterMessage: ProtoMessage = {
      name: cluster,
      type: 'STATIC',
      connect_timeout: CONNECT_TIMEOUT,
      load_assignment: { cluster_name: cluster, endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress('127.0.0.1', port) } }] }] },
    };
    if (isHttp2(protocol)) {
      clusterMessage.typed_extension_protocol_options = {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': ExtensionType.httpProtocolOptions, explicit_http_config: { http2_protocol_options: {} } },
      };
    }
    out.push({ typeUrl: TypeUrl.cluster, name: cluster, message: clusterMessage, sources: uniqueSources(sources) });
  }
  chains.push({ name: 'InboundPassthroughFilterChain', filters: [tcpProxy(PASSTHROUGH_CLUSTER, { cluster: PASSTHROUGH_CLUSTER })] });
  const listenerFilters: ProtoMessage[] = [{ name: 'envoy.filters.listener.original_dst', typed_config: { '@type': ExtensionType.originalDst } }];
  if (inspectTls) listenerFilters.push({ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': ExtensionType.tlsInspector } });
  out.push({
    typeUrl: TypeUrl.listener,
    name: VIRTUAL_INBOUND,
    message: {
      name: VIRTUAL_INBOUND,
      address: socketAddress('0.0.0.0', INBOUND_CAPTURE_PORT),
      traffic_direction: 'INBOUND',
      listener_filters: listenerFilters,
      filter_chains: chains,
    },
    sources: uniqueSources(out.flatMap((g) => g.sources)),
  });
  // The certificate files the TLS contexts (inbound here, and the outbound clusters') name, by SDS.
  for (const secret of envoyCredentialSecrets()) out.push({ typeUrl: TypeUrl.secret, name: secret.name, message: secret.message, sources: [] });
  return out;
}

/** The network filters of one inbound chain: RBAC and the TCP proxy, or the HTTP connection manager with its filters. */
function inboundFilters(o: { protocol: ServicePortModel['protocol']; cluster: string; chainName: string; trustDomain: string; security?: WorkloadSecurity; tracing?: ProtoMessage }): ProtoMessage[] {
  const { cluster, chainName, security } = o;
  const logs = accessLogs(security?.telemetry?.spec);
  const withLogs = logs.length > 0 ? { access_log: logs } : {};
  if (isTcpProtocol(o.protocol)) {
    return [...rbacNetworkFilters(security?.authorizations ?? [], o.trustDomain, chainName), tcpProxy(chainName, { cluster, ...withLogs })];
  }
  const rateLimit = security?.rateLimit ? [localRateLimitFilter(security.rateLimit.spec, chainName)] : [];
  return [
    {
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {
        '@type': ExtensionType.httpConnectionManager,
        stat_prefix: chainName,
        route_config: {
          name: cluster,
          virtual_hosts: [{ name: 'inbound', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, timeout: { seconds: 0 } } }] }],
        },
        http_filters: httpFilters([...rbacHttpFilters(security?.authorizations ?? [], o.trustDomain), ...rateLimit]),
        ...withLogs,
        ...(o.tracing ? { tracing: o.tracing } : {}),
      },
    },
  ];
}

/**
 * The inbound filter chains of one port for an mtls mode: a name suffix (after `inbound|<port>||`), the transport
 * protocol to match (with tls_inspector), and whether it terminates mutual TLS. STRICT matches no transport
 * protocol on purpose: a plaintext connection must fail the handshake, not fall through to another chain.
 */
function inboundChains(mode: MtlsMode): Array<{ name: string; transportProtocol?: 'tls' | 'raw_buffer'; tls: boolean }> {
  switch (mode) {
    case 'STRICT':
      return [{ name: 'mtls', tls: true }];
    case 'PERMISSIVE':
      return [
        { name: 'mtls', transportProtocol: 'tls', tls: true },
        { name: 'plaintext', transportProtocol: 'raw_buffer', tls: false },
      ];
    case 'DISABLE':
      return [{ name: 'plaintext', tls: false }];
  }
}
