// The Envoy bootstrap of a gateway pod: who the proxy is (its node id) and where it gets everything else (ADS).
// Listeners and clusters for traffic all come over xDS; the bootstrap only adds the xDS cluster itself and a
// status listener for the kubelet's readiness probe.
import { isIP } from 'node:net';
import type { Gateway } from '../api/index.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../install/names.js';
import { gatewayNodeId } from './node-id.js';

/**
 * Where gateway proxies fetch their configuration: the `weft agent` in the same pod, which relays ADS to the
 * operator's TLS port with the pod's ServiceAccount token (the operator serves xDS to token holders only; its
 * plaintext port is loopback-only, for tests). Its default `--xds-address`.
 */
export const XDS_ADDRESS = { host: '127.0.0.1', port: 15010 } as const;
/** Who serves the config behind the relay: sent as the gRPC authority. */
export const XDS_AUTHORITY = `${OPERATOR_NAME}.${OPERATOR_NAMESPACE}.svc`;
export const XDS_CLUSTER = 'weft-xds';
/** Envoy's admin API, on loopback only: it can stop the proxy, so it is reachable only with kubectl port-forward. */
export const ADMIN_PORT = 15000;
/** The readiness endpoint the kubelet probes: GET :15021/healthz/ready (Istio's port and path). */
export const STATUS_PORT = 15021;
export const READINESS_PATH = '/healthz/ready';

export { GATEWAY_NODE_TYPE, gatewayNodeId, parseGatewayNodeId } from './node-id.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** Envoy v3 Bootstrap of a gateway pod as JSON (proto field names), for `envoy --config-yaml`. */
export function envoyBootstrap(gw: Gateway, xds: { host: string; port: number } = XDS_ADDRESS): Record<string, unknown> {
  const namespace = gw.metadata.namespace!;
  const name = gw.metadata.name!;
  return proxyBootstrap({ id: gatewayNodeId(namespace, name), cluster: `${name}.${namespace}`, metadata: { 'weft.dev/gateway': `${namespace}/${name}` } }, xds);
}

/**
 * Envoy v3 Bootstrap of any Weft proxy (a gateway's, a sidecar's): its node, ADS through the pod's `weft agent`, the
 * admin API on loopback and the readiness listener.
 */
export function proxyBootstrap(
  node: { id: string; cluster: string; metadata: Record<string, string> },
  xds: { host: string; port: number } = XDS_ADDRESS,
  adsApi: 'GRPC' | 'DELTA_GRPC' = 'GRPC',
): Record<string, unknown> {
  const fromAds = { ads: {}, resource_api_version: 'V3' };
  return {
    node,
    admin: { address: socketAddress('127.0.0.1', ADMIN_PORT) },
    dynamic_resources: {
      ads_config: {
        api_type: adsApi,
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER, authority: XDS_AUTHORITY } }],
        set_node_on_first_message_only: true,
      },
      lds_config: fromAds,
      cds_config: fromAds,
    },
    static_resources: {
      listeners: [statusListener()],
      clusters: [xdsCluster(xds)],
    },
  };
}

function socketAddress(address: string, port: number): Record<string, unknown> {
  return { socket_address: { address, port_value: port } };
}

/** ADS over HTTP/2 (plaintext: it stays on loopback), with keepalives so a dead connection is noticed. */
function xdsCluster(xds: { host: string; port: number }): Record<string, unknown> {
  return {
    name: XDS_CLUSTER,
    type: isIP(xds.host) ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: '5s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '10s' } } },
      },
    },
    load_assignment: {
      cluster_name: XDS_CLUSTER,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(xds.host, xds.port) } }] }],
    },
  };
}

/**
 * Answers the readiness probe. Envoy opens static listeners only once its initial xDS fetch is done (or timed
 * out), so a 200 here means the proxy is up and has asked for its config.
 */
function statusListener(): Record<string, unknown> {
  return {
    name: 'weft-status',
    address: socketAddress('0.0.0.0', STATUS_PORT),
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: 'weft_status',
              route_config: { name: 'weft-status' },
              http_filters: [
                {
                  name: 'envoy.filters.http.health_check',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck',
                    pass_through_mode: false,
                    headers: [{ name: ':path', string_match: { exact: READINESS_PATH } }],
                  },
                },
                { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
              ],
            },
          },
        ],
      },
    ],
  };
}
