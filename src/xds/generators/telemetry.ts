// MeshPolicy `rateLimit` and `telemetry` for an Envoy sidecar's inbound HTTP connection managers: a local rate
// limit filter (a token bucket), a stdout access log, and tracing to a collector cluster. Proxyless gRPC has no
// counterpart in xDS for any of them (src/mesh/meshpolicy.ts says so in the policy's status).
import type { RateLimit, Telemetry } from '../../api/index.js';
import { ExtensionType, TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { TRACING_PROVIDERS } from '../../mesh/meshpolicy.js';
import type { MeshRef } from '../../mesh/model/index.js';
import type { Generated } from './types.js';

export const LOCAL_RATE_LIMIT_FILTER = 'envoy.filters.http.local_ratelimit';
export const STDOUT_ACCESS_LOG = 'envoy.access_loggers.stdout';
/** Istio's default sampling when a policy does not say. */
export const DEFAULT_SAMPLING_PERCENTAGE = 1;

const UNIT_SECONDS: Record<RateLimit['unit'], number> = { SECOND: 1, MINUTE: 60, HOUR: 3600 };
const ALWAYS: ProtoMessage = { default_value: { numerator: 100, denominator: 'HUNDRED' } };

/** A token bucket of `burst` (default requestsPerUnit) tokens, refilled with requestsPerUnit every unit. */
export function localRateLimitFilter(rateLimit: RateLimit, statPrefix: string): ProtoMessage {
  return {
    name: LOCAL_RATE_LIMIT_FILTER,
    typed_config: {
      '@type': ExtensionType.localRateLimit,
      stat_prefix: statPrefix,
      token_bucket: {
        max_tokens: rateLimit.burst ?? rateLimit.requestsPerUnit,
        tokens_per_fill: { value: rateLimit.requestsPerUnit },
        fill_interval: { seconds: UNIT_SECONDS[rateLimit.unit] },
      },
      filter_enabled: { ...ALWAYS, runtime_key: 'weft_local_rate_limit_enabled' },
      filter_enforced: { ...ALWAYS, runtime_key: 'weft_local_rate_limit_enforced' },
    },
  };
}

/** The HCM `access_log` list for `telemetry`: Envoy's default format on the proxy's stdout, or none. */
export function accessLogs(telemetry: Telemetry | undefined): ProtoMessage[] {
  if (!telemetry?.accessLog?.enabled) return [];
  return [{ name: STDOUT_ACCESS_LOG, typed_config: { '@type': ExtensionType.stdoutAccessLog } }];
}

/** `host:port` of a collector (the API's pattern guarantees the shape). */
function parseEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}

/** The cluster spans go to, named like Istio's clusters but apart from the mesh's `outbound|...` ones. */
export function tracingClusterName(endpoint: string): string {
  const { host, port } = parseEndpoint(endpoint);
  return `tracing|${port}||${host}`;
}

/**
 * The HCM `tracing` block and the collector's cluster for `telemetry.tracing`, or undefined when it does not
 * trace (no tracing, no endpoint, or a provider validation refuses: an Accepted policy never has one).
 */
export function tracing(telemetry: Telemetry | undefined, serviceName: string, sources: MeshRef[]): { hcm: ProtoMessage; cluster: Generated } | undefined {
  const t = telemetry?.tracing;
  if (!t?.endpoint) return undefined;
  const provider = t.provider ?? TRACING_PROVIDERS[0];
  const clusterName = tracingClusterName(t.endpoint);
  let http: ProtoMessage;
  if (provider === 'opentelemetry') {
    http = {
      name: 'envoy.tracers.opentelemetry',
      typed_config: { '@type': ExtensionType.openTelemetryTracer, grpc_service: { envoy_grpc: { cluster_name: clusterName } }, service_name: serviceName },
    };
  } else if (provider === 'zipkin') {
    http = {
      name: 'envoy.tracers.zipkin',
      typed_config: {
        '@type': ExtensionType.zipkinTracer,
        collector_cluster: clusterName,
        collector_endpoint: '/api/v2/spans',
        collector_endpoint_version: 'HTTP_JSON',
        shared_span_context: { value: false },
      },
    };
  } else return undefined;
  const { host, port } = parseEndpoint(t.endpoint);
  const cluster: ProtoMessage = {
    name: clusterName,
    type: 'STRICT_DNS',
    connect_timeout: { seconds: 10 },
    dns_lookup_family: 'V4_PREFERRED',
    load_assignment: { cluster_name: clusterName, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }] },
  };
  if (provider === 'opentelemetry') {
    // OTLP over gRPC: HTTP/2 to the collector.
    cluster.typed_extension_protocol_options = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': ExtensionType.httpProtocolOptions, explicit_http_config: { http2_protocol_options: {} } },
    };
  }
  return {
    hcm: { random_sampling: { value: t.samplingPercentage ?? DEFAULT_SAMPLING_PERCENTAGE }, provider: http },
    cluster: { typeUrl: TypeUrl.cluster, name: clusterName, message: cluster, sources },
  };
}
