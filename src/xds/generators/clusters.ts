// CDS: one EDS cluster per service port, and one per subset (`outbound|port|subset|host`), carrying the
// DestinationRule's load balancing, connection limits (circuit breakers) and outlier detection. Services resolved
// by DNS get DNS clusters with their endpoints inline instead (dns.ts).
import type { ServiceModel, ServicePortModel } from '../../mesh/model/index.js';
import { ExtensionType, TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import { dnsClusterFields, resolvedByDns } from './dns.js';
import { duration, durationSeconds } from './duration.js';
import { clusterTransportSocket, envoyClusterTransportSocket } from './mtls.js';
import { outboundCluster } from './names.js';
import { localityRule } from './locality.js';
import { effectivePolicy, type EffectivePolicy } from './policy.js';
import type { Flavor, Generated } from './types.js';

export function serviceClusters(service: ServiceModel, flavor: Flavor): Generated[] {
  const out: Generated[] = [];
  for (const port of service.ports) {
    out.push(cluster(service, port, undefined, flavor));
    for (const subset of service.policy?.subsets ?? []) out.push(cluster(service, port, subset.name, flavor));
  }
  return out;
}

/** Protocols that an Envoy must speak HTTP/2 upstream for. */
export function isHttp2(protocol: ServicePortModel['protocol']): boolean {
  return protocol === 'GRPC' || protocol === 'HTTP2';
}

function cluster(service: ServiceModel, port: ServicePortModel, subset: string | undefined, flavor: Flavor): Generated {
  const name = outboundCluster(service.host, port.number, subset);
  const policy = effectivePolicy(service, port.number, subset);
  const discovery: ProtoMessage = resolvedByDns(service)
    ? dnsClusterFields(service, port, subset, name, flavor)
    : { type: 'EDS', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: name } };
  const message: ProtoMessage = {
    name,
    ...discovery,
    connect_timeout: duration(policy.connectionPool?.tcp?.connectTimeout) ?? { seconds: 10 },
    ...loadBalancing(policy, flavor),
  };
  if (flavor === 'envoy') {
    const common = commonLbConfig(policy);
    if (common) message.common_lb_config = common;
    const keepalive = tcpKeepalive(policy);
    if (keepalive) message.upstream_connection_options = { tcp_keepalive: keepalive };
  }
  const breakers = circuitBreakers(policy);
  if (breakers) message.circuit_breakers = breakers;
  const outliers = flavor === 'envoy' ? envoyOutlierDetection(policy) : grpcOutlierDetection(policy);
  if (outliers) message.outlier_detection = outliers;
  if (flavor === 'proxyless') {
    const tls = clusterTransportSocket(service, port, policy);
    if (tls) message.transport_socket = tls;
  }
  if (flavor === 'envoy') {
    const tls = envoyClusterTransportSocket(service, policy, port, subset);
    if (tls) message.transport_socket = tls;
    const options = httpProtocolOptions(port, policy);
    if (options) message.typed_extension_protocol_options = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': options };
  }
  const sources = [service.declaredBy, ...(service.policy ? [service.policy.source] : [])];
  return { typeUrl: TypeUrl.cluster, name, message, sources };
}

/**
 * Envoy gets the algorithm asked for. gRPC has round robin and ring hash: the "spread the load" algorithms
 * (least request, random) become round robin, which spreads it too. Maglev is not substituted: the cluster goes
 * out as written, gRPC rejects it, and the NACK shows on the DestinationRule while clients keep their last good
 * config (a silent ring hash would change the hashing the user chose).
 */
function loadBalancing(policy: EffectivePolicy, flavor: Flavor): ProtoMessage {
  const lb = policy.loadBalancer;
  const hash = lb?.consistentHash;
  if (hash?.maglev) {
    return { lb_policy: 'MAGLEV', ...(hash.maglev.tableSize ? { maglev_lb_config: { table_size: { value: hash.maglev.tableSize } } } : {}) };
  }
  if (hash) {
    const ring: ProtoMessage = { hash_function: 'XX_HASH' };
    // Istio's deprecated consistentHash.minimumRingSize means ringHash.minimumRingSize (the two are exclusive).
    const minimumRingSize = hash.ringHash?.minimumRingSize ?? hash.minimumRingSize;
    if (minimumRingSize) ring.minimum_ring_size = { value: minimumRingSize };
    return { lb_policy: 'RING_HASH', ring_hash_lb_config: ring };
  }
  if (flavor === 'proxyless') return { lb_policy: 'ROUND_ROBIN' };
  switch (lb?.simple) {
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      return { lb_policy: 'LEAST_REQUEST' };
    case 'RANDOM':
      return { lb_policy: 'RANDOM' };
    default:
      return { lb_policy: 'ROUND_ROBIN' };
  }
}

/**
 * Envoy weighs localities only with locality_weighted_lb_config (Istio sets it for the same cases; gRPC always
 * weighs them). With outlier detection, the panic threshold is minHealthPercent, 0 when not set: as Istio, no
 * panic routing to unhealthy hosts unless asked for (Envoy's default is 50%).
 */
function commonLbConfig(policy: EffectivePolicy): ProtoMessage | undefined {
  const common: ProtoMessage = {};
  if (weighsLocalities(policy)) common.locality_weighted_lb_config = {};
  if (policy.outlierDetection) common.healthy_panic_threshold = { value: policy.outlierDetection.minHealthPercent ?? 0 };
  return Object.keys(common).length > 0 ? common : undefined;
}

/** Istio's TCP keepalive: SO_KEEPALIVE with the system's settings, each one given replacing its own (whole seconds). */
function tcpKeepalive(policy: EffectivePolicy): ProtoMessage | undefined {
  const k = policy.connectionPool?.tcp?.tcpKeepalive;
  if (!k) return undefined;
  const seconds = (text: string) => ({ value: durationSeconds(text) });
  const keepalive: ProtoMessage = {};
  if (k.probes) keepalive.keepalive_probes = { value: k.probes };
  if (k.time) keepalive.keepalive_time = seconds(k.time);
  if (k.interval) keepalive.keepalive_interval = seconds(k.interval);
  return keepalive;
}

/** Whether locality weights matter for this cluster: a `distribute` rule, or explicit failover (Istio's condition). */
function weighsLocalities(policy: EffectivePolicy): boolean {
  const rule = localityRule(policy);
  if (!rule) return false;
  const { distribute = [], failover = [], failoverPriority = [] } = rule.setting;
  return distribute.length > 0 || (rule.failover && (failover.length > 0 || failoverPriority.length > 0));
}

/**
 * Connection-pool limits and the retry budget as the DEFAULT-priority circuit breaker (gRPC honours max_requests).
 * A retry budget defaults as Istio's: 20% of active requests, at least 3 retries at once.
 */
function circuitBreakers(policy: EffectivePolicy): ProtoMessage | undefined {
  const pool = policy.connectionPool;
  const budget = policy.retryBudget;
  const threshold: ProtoMessage = { priority: 'DEFAULT' };
  if (pool?.tcp?.maxConnections !== undefined) threshold.max_connections = { value: pool.tcp.maxConnections };
  if (pool?.http?.http1MaxPendingRequests !== undefined) threshold.max_pending_requests = { value: pool.http.http1MaxPendingRequests };
  if (pool?.http?.http2MaxRequests !== undefined) threshold.max_requests = { value: pool.http.http2MaxRequests };
  if (pool?.http?.maxRetries !== undefined) threshold.max_retries = { value: pool.http.maxRetries };
  if (budget) {
    threshold.retry_budget = { budget_percent: { value: budget.percent ?? 20 }, min_retry_concurrency: { value: budget.minRetryConcurrency || 3 } };
  }
  return Object.keys(threshold).length > 1 ? { thresholds: [threshold] } : undefined;
}

function ejectionTiming(o: NonNullable<EffectivePolicy['outlierDetection']>): ProtoMessage {
  const m: ProtoMessage = {};
  if (o.interval) m.interval = duration(o.interval);
  if (o.baseEjectionTime) m.base_ejection_time = duration(o.baseEjectionTime);
  if (o.maxEjectionPercent !== undefined) m.max_ejection_percent = { value: o.maxEjectionPercent };
  return m;
}

/** Istio's consecutive-error ejection, as Envoy counts it; success-rate ejection off (Istio does the same). */
function envoyOutlierDetection(policy: EffectivePolicy): ProtoMessage | undefined {
  const o = policy.outlierDetection;
  if (!o) return undefined;
  const m: ProtoMessage = { ...ejectionTiming(o), enforcing_success_rate: { value: 0 } };
  if (o.consecutive5xxErrors !== undefined) {
    m.consecutive_5xx = { value: o.consecutive5xxErrors };
    m.enforcing_consecutive_5xx = { value: o.consecutive5xxErrors > 0 ? 100 : 0 };
  }
  if (o.consecutiveGatewayErrors !== undefined) {
    m.consecutive_gateway_failure = { value: o.consecutiveGatewayErrors };
    m.enforcing_consecutive_gateway_failure = { value: o.consecutiveGatewayErrors > 0 ? 100 : 0 };
  }
  if (o.splitExternalLocalOriginErrors) m.split_external_local_origin_errors = true;
  if (o.consecutiveLocalOriginFailures !== undefined) m.consecutive_local_origin_failure = { value: o.consecutiveLocalOriginFailures };
  return m;
}

/**
 * gRPC (gRFC A50) ejects by success rate or failure percentage, not by consecutive errors. The closest faithful
 * reading of "eject after N consecutive errors": eject a host that failed more than half of at least N calls in
 * an interval, when there is another host to send to. Success-rate ejection stays off, as for Envoy.
 */
function grpcOutlierDetection(policy: EffectivePolicy): ProtoMessage | undefined {
  const o = policy.outlierDetection;
  if (!o) return undefined;
  const errors = o.consecutive5xxErrors ?? o.consecutiveGatewayErrors ?? o.consecutiveLocalOriginFailures;
  const m: ProtoMessage = { ...ejectionTiming(o), enforcing_success_rate: { value: 0 } };
  if (errors !== undefined && errors > 0) {
    m.enforcing_failure_percentage = { value: 100 };
    m.failure_percentage_threshold = { value: 50 };
    m.failure_percentage_request_volume = { value: errors };
    m.failure_percentage_minimum_hosts = { value: 2 };
  }
  return m;
}

/**
 * The upstream protocol and the pool's per-connection limits. HTTP/2 for gRPC and HTTP/2 ports, and for HTTP ports
 * a rule upgrades (h2UpgradePolicy UPGRADE); with useClientProtocol, whatever the client spoke (never upgraded).
 * The idle timeout is the HTTP one, else the TCP one (as Istio).
 */
function httpProtocolOptions(port: ServicePortModel, policy: EffectivePolicy): ProtoMessage | undefined {
  const http = policy.connectionPool?.http;
  const tcp = policy.connectionPool?.tcp;
  const common: ProtoMessage = {};
  const idleTimeout = http?.idleTimeout ?? tcp?.idleTimeout;
  if (idleTimeout) common.idle_timeout = duration(idleTimeout);
  if (http?.maxRequestsPerConnection) common.max_requests_per_connection = { value: http.maxRequestsPerConnection };
  if (tcp?.maxConnectionDuration) common.max_connection_duration = duration(tcp.maxConnectionDuration);
  const h2 = !http?.useClientProtocol && (isHttp2(port.protocol) || (http?.h2UpgradePolicy === 'UPGRADE' && port.protocol === 'HTTP'));
  if (!h2 && !http?.useClientProtocol && Object.keys(common).length === 0) return undefined;
  const http2: ProtoMessage = {};
  if (http?.maxConcurrentStreams) http2.max_concurrent_streams = { value: http.maxConcurrentStreams };
  if (http?.http2KeepAlive) http2.connection_keepalive = { interval: duration(http.http2KeepAlive.interval), timeout: duration(http.http2KeepAlive.timeout) };
  const options: ProtoMessage = { '@type': ExtensionType.httpProtocolOptions };
  if (http?.useClientProtocol) options.use_downstream_protocol_config = { http_protocol_options: {}, http2_protocol_options: http2 };
  else options.explicit_http_config = h2 ? { http2_protocol_options: http2 } : { http_protocol_options: {} };
  if (Object.keys(common).length > 0) options.common_http_protocol_options = common;
  return options;
}
