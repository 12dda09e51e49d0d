// Mesh security for proxyless gRPC, from the security config functions in src/security:
// - the server side: an inbound Listener for each workload port a gRPC XdsServer binds (named by the bootstrap
//   template `weft/grpc/lds/inbound/<ip>:<port>`), its filter chains per the workload's mtls mode, and RBAC
//   filters before the router for the authorization in scope;
// - the client side: the transport socket of a cluster whose workloads require mutual TLS (for Envoy sidecars
//   too, in their form: SDS secrets and Istio's SNI).
import { SERVER_LISTENER_TEMPLATE } from '../../agent/bootstrap.js';
import { isTcpProtocol } from '../../api/index.js';
import { DEFAULT_TRUST_DOMAIN, spiffeId } from '../../ca/spiffe.js';
import type { ServiceModel, ServicePortModel } from '../../mesh/model/index.js';
import { mtlsModeAt } from '../../mesh/policy.js';
import {
  clientTransportSocket,
  envoyOriginationTransportSocket,
  envoyUpstreamTransportSocket,
  inboundFilterChains,
  outboundSni,
  rbacHttpFilters,
  usesMutualTls,
  type ClientTlsMode,
} from '../../security/index.js';
import { ExtensionType, TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { endpointPort } from './endpoints.js';
import type { EffectivePolicy } from './policy.js';
import { policySources, uniqueSources, type Generated } from './types.js';

/** The listener name a gRPC XdsServer bound at `address:port` asks for. */
export function inboundListenerName(address: string, port: number): string {
  return SERVER_LISTENER_TEMPLATE.replace('%s', `${address}:${port}`);
}

/**
 * Inbound listeners of the service's workloads (gRPC ports only). Routes are `non_forwarding_action`: the server
 * itself handles the call. Two services selecting one workload generate the same bytes for its listener.
 */
export function proxylessInboundListeners(service: ServiceModel, trustDomain = DEFAULT_TRUST_DOMAIN): Generated[] {
  if (service.location !== 'MESH_INTERNAL') return [];
  const out: Generated[] = [];
  for (const endpoint of service.endpoints) {
    for (const port of service.ports) {
      if (isTcpProtocol(port.protocol)) continue;
      const target = endpointPort(endpoint, port);
      if (target === undefined) continue;
      const name = inboundListenerName(endpoint.address, target);
      const httpFilters = [
        ...rbacHttpFilters(endpoint.security?.authorizations ?? [], trustDomain),
        { name: 'envoy.filters.http.router', typed_config: { '@type': ExtensionType.router } },
      ];
      const hcm = (stat: string): ProtoMessage => ({
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': ExtensionType.httpConnectionManager,
          stat_prefix: stat,
          route_config: {
            name: `inbound|${target}`,
            virtual_hosts: [{ name: 'inbound', domains: ['*'], routes: [{ match: { prefix: '/' }, non_forwarding_action: {} }] }],
          },
          http_filters: httpFilters,
        },
      });
      const filterChains = inboundFilterChains(mtlsModeAt(endpoint.security, target)).map((chain) => ({
        name: `inbound|${target}|${chain.name}`,
        filters: [hcm(`inbound|${target}|${chain.name}`)],
        ...(chain.transport_socket ? { transport_socket: chain.transport_socket } : {}),
      }));
      out.push({
        typeUrl: TypeUrl.listener,
        name,
        message: {
          name,
          address: { socket_address: { address: endpoint.address, port_value: target } },
          traffic_direction: 'INBOUND',
          filter_chains: filterChains,
        },
        sources: uniqueSources([service.declaredBy, endpoint.source, ...policySources(endpoint.security)]),
      });
    }
  }
  return out;
}

/**
 * What a client needs to reach the service's workloads: mutual TLS when the DestinationRule says ISTIO_MUTUAL, or
 * (auto mTLS) when every workload of the service requires it; then only the workloads' ServiceAccount identities.
 */
export function destinationTls(service: ServiceModel, port: ServicePortModel, policy: EffectivePolicy, trustDomain: string): { mutual: boolean; serverIdentities: string[] } {
  const endpoints = service.endpoints;
  // Auto mTLS is for mesh workloads: a MESH_EXTERNAL service's endpoints have no sidecar or agent, whatever
  // policy covers the namespace that declares them (a DestinationRule may still ask for ISTIO_MUTUAL). Each
  // workload is asked on the port the service port reaches it on (port-level modes).
  const strict =
    service.location === 'MESH_INTERNAL' &&
    endpoints.length > 0 &&
    endpoints.every((e) => mtlsModeAt(e.security, endpointPort(e, port) ?? port.number) === 'STRICT');
  const explicit = policy.tls?.mode as ClientTlsMode | undefined;
  const serverIdentities = endpoints.flatMap((e) => (e.serviceAccount ? [spiffeId({ trustDomain, namespace: e.source.namespace, serviceAccount: e.serviceAccount })] : []));
  return { mutual: usesMutualTls(strict ? 'STRICT' : 'PERMISSIVE', explicit), serverIdentities };
}

/** The transport socket of a proxyless cluster (certificate provider instances), or undefined for plaintext. */
export function clusterTransportSocket(service: ServiceModel, port: ServicePortModel, policy: EffectivePolicy, trustDomain = DEFAULT_TRUST_DOMAIN): ProtoMessage | undefined {
  const { mutual, serverIdentities } = destinationTls(service, port, policy, trustDomain);
  return clientTransportSocket({ destinationMode: mutual ? 'STRICT' : 'DISABLE', serverIdentities, trustDomain });
}

/** The transport socket of an Envoy sidecar's cluster (SDS from the agent's files, Istio's SNI), or undefined. */
export function envoyClusterTransportSocket(
  service: ServiceModel,
  policy: EffectivePolicy,
  port: ServicePortModel,
  subset: string | undefined,
  trustDomain = DEFAULT_TRUST_DOMAIN,
): ProtoMessage | undefined {
  const tls = policy.tls;
  if (tls?.mode === 'SIMPLE' || tls?.mode === 'MUTUAL') {
    return envoyOriginationTransportSocket({ ...tls, mode: tls.mode }, service.host);
  }
  const { mutual, serverIdentities } = destinationTls(service, port, policy, trustDomain);
  if (!mutual) return undefined;
  return envoyUpstreamTransportSocket({ sni: outboundSni(service.host, port.number, subset), serverIdentities, trustDomain });
}
