// Which Istio fields Weft applies, for which kind of client: Envoy (sidecars and gateways) and proxyless gRPC.
// Written from what the xDS generators (src/xds/generators/) and the mesh model (src/mesh/model/) actually produce;
// when a field is read nowhere, or only in part, it is "not applied yet" with the reason. The parity test
// (src/api/parity.test.ts) fails when a field Weft accepts has no entry here, and generates docs/api.md's tables
// from it; objects setting a field that is not applied say so in their status (src/mesh/not-applied.ts).
//
// Keys are field paths as in istio-fields.ts; a DestinationRule's traffic policy is one entry for every place it
// appears (`trafficPolicy.`, `subsets[].trafficPolicy.`, and their `portLevelSettings[].`): see canonicalPath.
// Only leaves (strings, numbers, booleans, lists and maps of them) are listed: an object is applied as its fields are.

/**
 * `applied`: the client gets it; `n/a`: nothing to apply for this client (nothing is lost); otherwise why not yet,
 * and the values for which nothing is lost all the same (`appliedFor`: gRPC's round robin when ROUND_ROBIN is asked).
 */
export type Support = 'applied' | 'n/a' | { notYet: string; appliedFor?: readonly unknown[] };

export interface Application {
  envoy: Support;
  proxyless: Support;
  /** How it is applied, when not as Istio does it exactly. */
  note?: string;
}

export type ParityKind = 'VirtualService' | 'DestinationRule' | 'Gateway' | 'ServiceEntry' | 'WorkloadEntry';

const both: Application = { envoy: 'applied', proxyless: 'applied' };
const withNote = (note: string): Application => ({ ...both, note });
/** Applied by Envoy; proxyless gRPC does not, for `reason`. */
const envoy = (reason: string, note?: string): Application => ({ envoy: 'applied', proxyless: { notYet: reason }, ...(note ? { note } : {}) });
/** Applied by Envoy; gRPC has nothing to apply (no loss). */
const envoyNa = (note?: string): Application => ({ envoy: 'applied', proxyless: 'n/a', ...(note ? { note } : {}) });
const none = (reason: string, appliedFor?: readonly unknown[]): Application => {
  const support = { notYet: reason, ...(appliedFor ? { appliedFor } : {}) };
  return { envoy: support, proxyless: support };
};
/** Gateways are Envoy proxies: proxyless clients never consume a Gateway. */
const gateway = (support: Support = 'applied'): Application => ({ envoy: support, proxyless: 'n/a' });

const NO_EXPORT_TO = 'exportTo is not enforced yet: the resource is visible in every namespace';
const NO_SOURCE_MATCH = 'matches on the client workload need per-proxy routes: such matches are left out of mesh routes';
const GRPC_NO_HEADER_OPS = 'gRPC xDS does not rewrite headers';
const GRPC_NO_REWRITE = 'gRPC xDS does not rewrite requests';
const GRPC_LEFT_OUT = 'gRPC cannot act on it: the route is left out for proxyless clients';
const GRPC_NO_MIRROR = 'gRPC xDS has no request mirroring';
const GRPC_NO_CORS = 'gRPC has no CORS filter';
const NO_TCP_PROXYLESS = 'proxyless clients get gRPC ports only, not TCP routes';
const TLS_ROUTES = 'TLS routes are generated for Gateway PASSTHROUGH servers only, not for sidecars yet';
const GRPC_TLS_FROM_BOOTSTRAP = "proxyless clients take TLS from their bootstrap's certificate providers, not from files a rule names";
const GRPC_ONLY_MAX_REQUESTS = 'gRPC honours only http2MaxRequests (max_requests) of the circuit breakers';
const GRPC_HASH = 'gRPC hashes on a header or the channel only';
const NO_WARMUP = 'slow start (warmup) is not generated yet';
const NO_ZONE_AWARE = 'zone-aware load balancing is not generated yet';
const NO_NETWORKS = 'one network only: endpoints are reached directly (no multi-network gateways yet)';
const GRPC_NO_TCP_KEEPALIVE = 'gRPC xDS does not set TCP keepalive from the cluster';
const GRPC_KEEPALIVE = "gRPC takes keepalive from the channel's own options, not from xDS";
const DR_SELECTOR = 'DestinationRules with a workloadSelector need per-workload clusters: they are left out for now';

const VirtualService: Record<string, Application> = {
  hosts: both,
  gateways: both,
  exportTo: none(NO_EXPORT_TO, ['*']),
  'http[].name': both,
  'http[].match[].name': both,
  'http[].match[].uri.exact': both,
  'http[].match[].uri.prefix': both,
  'http[].match[].uri.regex': both,
  'http[].match[].ignoreUriCase': both,
  'http[].match[].headers{}.exact': both,
  'http[].match[].headers{}.prefix': both,
  'http[].match[].headers{}.regex': both,
  'http[].match[].withoutHeaders{}.exact': both,
  'http[].match[].withoutHeaders{}.prefix': both,
  'http[].match[].withoutHeaders{}.regex': both,
  'http[].match[].method.exact': withNote('gRPC: always POST, so the match holds always or never and the route is kept or left out'),
  'http[].match[].method.prefix': withNote('gRPC: always POST, so the match holds always or never and the route is kept or left out'),
  'http[].match[].method.regex': withNote('gRPC: always POST, so the match holds always or never and the route is kept or left out'),
  'http[].match[].scheme.exact': envoy(GRPC_LEFT_OUT),
  'http[].match[].scheme.prefix': envoy(GRPC_LEFT_OUT),
  'http[].match[].scheme.regex': envoy(GRPC_LEFT_OUT),
  'http[].match[].authority.exact': envoy(GRPC_LEFT_OUT),
  'http[].match[].authority.prefix': envoy(GRPC_LEFT_OUT),
  'http[].match[].authority.regex': envoy(GRPC_LEFT_OUT),
  'http[].match[].queryParams{}.exact': envoy(GRPC_LEFT_OUT),
  'http[].match[].queryParams{}.prefix': envoy(GRPC_LEFT_OUT),
  'http[].match[].queryParams{}.regex': envoy(GRPC_LEFT_OUT),
  'http[].match[].port': both,
  'http[].match[].gateways': both,
  'http[].match[].sourceLabels': none(NO_SOURCE_MATCH),
  'http[].match[].sourceNamespace': none(NO_SOURCE_MATCH),
  'http[].match[].statPrefix': none('per-route statistics are not generated yet'),
  'http[].route[].destination.host': both,
  'http[].route[].destination.subset': both,
  'http[].route[].destination.port.number': both,
  'http[].route[].weight': both,
  'http[].route[].headers.request.set': envoy(GRPC_NO_HEADER_OPS),
  'http[].route[].headers.request.add': envoy(GRPC_NO_HEADER_OPS),
  'http[].route[].headers.request.remove': envoy(GRPC_NO_HEADER_OPS),
  'http[].route[].headers.response.set': envoy(GRPC_NO_HEADER_OPS),
  'http[].route[].headers.response.add': envoy(GRPC_NO_HEADER_OPS),
  'http[].route[].headers.response.remove': envoy(GRPC_NO_HEADER_OPS),
  'http[].headers.request.set': envoy(GRPC_NO_HEADER_OPS, 'Envoy: Host or :authority rewrites the authority, as Istio'),
  'http[].headers.request.add': envoy(GRPC_NO_HEADER_OPS, 'Envoy: Host or :authority rewrites the authority, as Istio'),
  'http[].headers.request.remove': envoy(GRPC_NO_HEADER_OPS),
  'http[].headers.response.set': envoy(GRPC_NO_HEADER_OPS),
  'http[].headers.response.add': envoy(GRPC_NO_HEADER_OPS),
  'http[].headers.response.remove': envoy(GRPC_NO_HEADER_OPS),
  'http[].redirect.uri': envoy(GRPC_LEFT_OUT),
  'http[].redirect.authority': envoy(GRPC_LEFT_OUT),
  'http[].redirect.port': envoy(GRPC_LEFT_OUT),
  'http[].redirect.scheme': envoy(GRPC_LEFT_OUT),
  'http[].redirect.redirectCode': envoy(GRPC_LEFT_OUT),
  'http[].redirect.derivePort': envoy(GRPC_LEFT_OUT, 'Envoy: FROM_REQUEST_PORT is the port the route is for (as Istio)'),
  'http[].redirect.prefixRewrite': envoy(GRPC_LEFT_OUT),
  'http[].directResponse.status': envoy(GRPC_LEFT_OUT),
  'http[].directResponse.body.string': envoy(GRPC_LEFT_OUT),
  'http[].directResponse.body.bytes': envoy(GRPC_LEFT_OUT),
  'http[].rewrite.uri': envoy(GRPC_NO_REWRITE),
  'http[].rewrite.authority': envoy(GRPC_NO_REWRITE),
  'http[].rewrite.uriRegexRewrite.match': envoy(GRPC_NO_REWRITE),
  'http[].rewrite.uriRegexRewrite.rewrite': envoy(GRPC_NO_REWRITE),
  'http[].timeout': withNote('gRPC: the stream deadline (max_stream_duration)'),
  'http[].retries.attempts': both,
  'http[].retries.backoff': withNote('retry_back_off: base_interval as written, max_interval 10 times it'),
  'http[].delegate.name': withNote('merged into the root\'s routes (src/mesh/delegation.ts), so every client gets the result'),
  'http[].delegate.namespace': both,
  'http[].retries.retryOn': withNote('gRPC retries only on status codes: cancelled, deadline-exceeded, internal, resource-exhausted, unavailable'),
  'http[].retries.perTryTimeout': envoy("gRPC's retry policy has no per-try timeout"),
  'http[].retries.retryRemoteLocalities': none('retryRemoteLocalities is not generated yet'),
  'http[].retries.retryIgnorePreviousHosts': none('retryIgnorePreviousHosts is not generated yet'),
  'http[].fault.delay.fixedDelay': both,
  'http[].fault.delay.percentage.value': both,
  'http[].fault.delay.percent': withNote('deprecated: read as percentage.value when that is not set'),
  'http[].fault.delay.exponentialDelay': none('exponentialDelay is not generated yet'),
  'http[].fault.abort.httpStatus': both,
  'http[].fault.abort.grpcStatus': both,
  'http[].fault.abort.http2Error': none('http2Error aborts are not generated yet'),
  'http[].fault.abort.percentage.value': both,
  'http[].mirror.host': envoy(GRPC_NO_MIRROR),
  'http[].mirror.subset': envoy(GRPC_NO_MIRROR),
  'http[].mirror.port.number': envoy(GRPC_NO_MIRROR),
  'http[].mirrorPercentage.value': envoy(GRPC_NO_MIRROR),
  'http[].mirrorPercent': envoy(GRPC_NO_MIRROR, 'deprecated: read as mirrorPercentage when that is not set'),
  'http[].mirror_percent': envoy(GRPC_NO_MIRROR, 'deprecated: read as mirrorPercentage when that is not set'),
  'http[].mirrors[].destination.host': envoy(GRPC_NO_MIRROR),
  'http[].mirrors[].destination.subset': envoy(GRPC_NO_MIRROR),
  'http[].mirrors[].destination.port.number': envoy(GRPC_NO_MIRROR),
  'http[].mirrors[].percentage.value': envoy(GRPC_NO_MIRROR),
  'http[].corsPolicy.allowOrigins[].exact': envoy(GRPC_NO_CORS),
  'http[].corsPolicy.allowOrigins[].prefix': envoy(GRPC_NO_CORS),
  'http[].corsPolicy.allowOrigins[].regex': envoy(GRPC_NO_CORS),
  'http[].corsPolicy.allowOrigin': envoy(GRPC_NO_CORS),
  'http[].corsPolicy.allowMethods': envoy(GRPC_NO_CORS),
  'http[].corsPolicy.allowHeaders': envoy(GRPC_NO_CORS),
  'http[].corsPolicy.exposeHeaders': envoy(GRPC_NO_CORS),
  'http[].corsPolicy.maxAge': envoy(GRPC_NO_CORS),
  'http[].corsPolicy.allowCredentials': envoy(GRPC_NO_CORS),
  'http[].corsPolicy.unmatchedPreflights': envoy(GRPC_NO_CORS),
  'tcp[].match[].port': envoy(NO_TCP_PROXYLESS),
  'tcp[].match[].gateways': envoy(NO_TCP_PROXYLESS),
  'tcp[].match[].destinationSubnets': none('destinationSubnets matches are not generated yet'),
  'tcp[].match[].sourceLabels': none(NO_SOURCE_MATCH),
  'tcp[].match[].sourceNamespace': none(NO_SOURCE_MATCH),
  'tcp[].match[].sourceSubnet': none('sourceSubnet matches are not generated yet'),
  'tcp[].route[].destination.host': envoy(NO_TCP_PROXYLESS),
  'tcp[].route[].destination.subset': envoy(NO_TCP_PROXYLESS),
  'tcp[].route[].destination.port.number': envoy(NO_TCP_PROXYLESS),
  'tcp[].route[].weight': envoy(NO_TCP_PROXYLESS),
  'tls[].match[].sniHosts': none(TLS_ROUTES),
  'tls[].match[].port': none(TLS_ROUTES),
  'tls[].match[].gateways': none(TLS_ROUTES),
  'tls[].match[].destinationSubnets': none('destinationSubnets matches are not generated yet'),
  'tls[].match[].sourceLabels': none(NO_SOURCE_MATCH),
  'tls[].match[].sourceNamespace': none(NO_SOURCE_MATCH),
  'tls[].route[].destination.host': none(TLS_ROUTES),
  'tls[].route[].destination.subset': none(TLS_ROUTES),
  'tls[].route[].destination.port.number': none(TLS_ROUTES),
  'tls[].route[].weight': none(TLS_ROUTES),
};

const DestinationRule: Record<string, Application> = {
  host: both,
  exportTo: none(NO_EXPORT_TO, ['*']),
  workloadSelector: none(DR_SELECTOR),
  'workloadSelector.matchLabels': none(DR_SELECTOR),
  'subsets[].name': both,
  'subsets[].labels': both,
  'trafficPolicy.port.number': both,
  'trafficPolicy.loadBalancer.localityLbSetting.distribute[].from': both,
  'trafficPolicy.loadBalancer.localityLbSetting.distribute[].to': withNote('per-locality load_balancing_weight in the proxy\'s EDS'),
  'trafficPolicy.loadBalancer.localityLbSetting.failover[].from': both,
  'trafficPolicy.loadBalancer.localityLbSetting.failover[].to': both,
  'trafficPolicy.loadBalancer.localityLbSetting.failoverPriority': withNote('EDS priorities per proxy placement; failover needs outlierDetection, as in Istio'),
  'trafficPolicy.loadBalancer.localityLbSetting.enabled': both,
  'trafficPolicy.loadBalancer.simple': {
    envoy: 'applied',
    proxyless: { notYet: 'gRPC balances round robin whatever simple algorithm is named (it has no LEAST_REQUEST or RANDOM)', appliedFor: ['ROUND_ROBIN', 'UNSPECIFIED'] },
  },
  'trafficPolicy.loadBalancer.consistentHash.httpHeaderName': both,
  'trafficPolicy.loadBalancer.consistentHash.useSourceIp': withNote('gRPC: hashes the channel (one client, one backend)'),
  'trafficPolicy.loadBalancer.consistentHash.httpCookie.name': envoy(GRPC_HASH),
  'trafficPolicy.loadBalancer.consistentHash.httpCookie.path': envoy(GRPC_HASH),
  'trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl': envoy(GRPC_HASH),
  'trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[].name': none('cookie attributes are not generated yet'),
  'trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[].value': none('cookie attributes are not generated yet'),
  'trafficPolicy.loadBalancer.consistentHash.httpQueryParameterName': envoy(GRPC_HASH),
  'trafficPolicy.loadBalancer.consistentHash.ringHash.minimumRingSize': both,
  'trafficPolicy.loadBalancer.consistentHash.minimumRingSize': withNote('deprecated: read as ringHash.minimumRingSize when that is not set'),
  'trafficPolicy.loadBalancer.consistentHash.maglev.tableSize': envoy('gRPC has no Maglev: the client rejects the cluster and the NACK shows on the rule'),
  'trafficPolicy.loadBalancer.warmup.duration': none(NO_WARMUP),
  'trafficPolicy.loadBalancer.warmup.minimumPercent': none(NO_WARMUP),
  'trafficPolicy.loadBalancer.warmup.aggression': none(NO_WARMUP),
  'trafficPolicy.loadBalancer.warmupDurationSecs': none(NO_WARMUP),
  'trafficPolicy.loadBalancer.zoneAwareLbSetting.enabled': none(NO_ZONE_AWARE),
  'trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[].from': none(NO_ZONE_AWARE),
  'trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[].to': none(NO_ZONE_AWARE),
  'trafficPolicy.loadBalancer.zoneAwareLbSetting.failoverPriority': none(NO_ZONE_AWARE),
  'trafficPolicy.loadBalancer.zoneAwareLbSetting.minClusterSize': none(NO_ZONE_AWARE),
  'trafficPolicy.connectionPool.tcp.maxConnections': envoy(GRPC_ONLY_MAX_REQUESTS),
  'trafficPolicy.connectionPool.tcp.connectTimeout': envoy("gRPC does not read the cluster's connect_timeout"),
  'trafficPolicy.connectionPool.tcp.maxConnectionDuration': envoy('gRPC xDS has no upstream connection duration limit'),
  'trafficPolicy.connectionPool.tcp.idleTimeout': envoy('gRPC xDS has no upstream idle timeout', 'Envoy: TCP proxies, and HTTP pools without http.idleTimeout'),
  'trafficPolicy.connectionPool.tcp.tcpKeepalive.probes': envoy(GRPC_NO_TCP_KEEPALIVE),
  'trafficPolicy.connectionPool.tcp.tcpKeepalive.time': envoy(GRPC_NO_TCP_KEEPALIVE, 'Envoy: in whole seconds'),
  'trafficPolicy.connectionPool.tcp.tcpKeepalive.interval': envoy(GRPC_NO_TCP_KEEPALIVE, 'Envoy: in whole seconds'),
  'trafficPolicy.connectionPool.http.http1MaxPendingRequests': envoy(GRPC_ONLY_MAX_REQUESTS),
  'trafficPolicy.connectionPool.http.http2MaxRequests': both,
  'trafficPolicy.connectionPool.http.maxRequestsPerConnection': envoy('gRPC xDS has no per-connection request limit'),
  'trafficPolicy.connectionPool.http.maxRetries': envoy(GRPC_ONLY_MAX_REQUESTS),
  'trafficPolicy.connectionPool.http.idleTimeout': envoy('gRPC xDS has no upstream idle timeout'),
  'trafficPolicy.connectionPool.http.maxConcurrentStreams': envoy('gRPC xDS has no upstream stream limit', 'Envoy: on HTTP/2 (GRPC, HTTP2) ports'),
  'trafficPolicy.connectionPool.http.h2UpgradePolicy': envoyNa('gRPC always speaks HTTP/2; Envoy: UPGRADE makes an HTTP port HTTP/2 upstream'),
  'trafficPolicy.connectionPool.http.useClientProtocol': envoyNa('gRPC always speaks HTTP/2'),
  'trafficPolicy.connectionPool.http.http2KeepAlive.interval': envoy(GRPC_KEEPALIVE, 'Envoy: on HTTP/2 upstreams'),
  'trafficPolicy.connectionPool.http.http2KeepAlive.timeout': envoy(GRPC_KEEPALIVE, 'Envoy: on HTTP/2 upstreams'),
  'trafficPolicy.outlierDetection.consecutive5xxErrors': withNote('gRPC (gRFC A50) has no consecutive-error ejection: read as failure-percentage ejection over that many calls'),
  'trafficPolicy.outlierDetection.consecutiveGatewayErrors': withNote('gRPC: as consecutive5xxErrors, when that is not set'),
  'trafficPolicy.outlierDetection.consecutiveLocalOriginFailures': withNote('gRPC: as consecutive5xxErrors, when neither error count is set'),
  'trafficPolicy.outlierDetection.splitExternalLocalOriginErrors': envoy('gRPC does not tell local-origin failures apart'),
  'trafficPolicy.outlierDetection.interval': both,
  'trafficPolicy.outlierDetection.baseEjectionTime': both,
  'trafficPolicy.outlierDetection.maxEjectionPercent': both,
  'trafficPolicy.outlierDetection.minHealthPercent': envoy('gRPC has no panic threshold', 'Envoy: the panic threshold, 0 when not set (as Istio)'),
  'trafficPolicy.outlierDetection.consecutiveErrors': none('deprecated consecutiveErrors is not generated: use consecutive5xxErrors or consecutiveGatewayErrors'),
  'trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes': none('outlierDetectionHttpErrorCodes is not generated yet'),
  'trafficPolicy.tls.mode': withNote('SIMPLE and MUTUAL origination reach Envoy only (the Accepted message says so); ISTIO_MUTUAL and DISABLE both'),
  'trafficPolicy.tls.clientCertificate': envoy(GRPC_TLS_FROM_BOOTSTRAP),
  'trafficPolicy.tls.privateKey': envoy(GRPC_TLS_FROM_BOOTSTRAP),
  'trafficPolicy.tls.caCertificates': envoy(GRPC_TLS_FROM_BOOTSTRAP),
  'trafficPolicy.tls.caCrl': envoy(GRPC_TLS_FROM_BOOTSTRAP),
  'trafficPolicy.tls.subjectAltNames': envoy(GRPC_TLS_FROM_BOOTSTRAP),
  'trafficPolicy.tls.sni': envoy(GRPC_TLS_FROM_BOOTSTRAP),
  'trafficPolicy.tls.insecureSkipVerify': envoy(GRPC_TLS_FROM_BOOTSTRAP),
  'trafficPolicy.tls.credentialName': none('a credential Secret is for gateways; sidecars take files (clientCertificate, privateKey)'),
  'trafficPolicy.proxyProtocol.version': none('PROXY protocol is not generated yet'),
  'trafficPolicy.tunnel.protocol': none('tunneling is not generated yet'),
  'trafficPolicy.tunnel.targetHost': none('tunneling is not generated yet'),
  'trafficPolicy.tunnel.targetPort': none('tunneling is not generated yet'),
  'trafficPolicy.retryBudget.percent': envoy('gRPC xDS has no retry budget'),
  'trafficPolicy.retryBudget.minRetryConcurrency': envoy('gRPC xDS has no retry budget'),
  'trafficPolicy.retryBudget.budgetInterval': none("the retry budget's interval is newer than the Envoy API Weft encodes with"),
};

const GW_FILE_CERTS = 'file-based certificates are not generated yet: use credentialName';
const Gateway: Record<string, Application> = {
  selector: gateway(),
  'servers[].name': gateway(),
  'servers[].hosts': gateway(),
  'servers[].port.number': gateway(),
  'servers[].port.protocol': gateway(),
  'servers[].port.name': gateway(),
  'servers[].port.targetPort': gateway(),
  'servers[].bind': gateway({ notYet: 'the gateway listens on every address: bind is not generated yet' }),
  'servers[].defaultEndpoint': gateway({ notYet: 'defaultEndpoint is for sidecar ingress, which is not generated' }),
  'servers[].tls.mode': { ...gateway(), note: 'SIMPLE, MUTUAL, OPTIONAL_MUTUAL, PASSTHROUGH; AUTO_PASSTHROUGH and ISTIO_MUTUAL are not generated yet' },
  'servers[].tls.httpsRedirect': gateway(),
  'servers[].tls.credentialName': gateway(),
  'servers[].tls.credentialNames': gateway(),
  'servers[].tls.caCertCredentialName': gateway(),
  'servers[].tls.tlsCertificates[].serverCertificate': gateway({ notYet: GW_FILE_CERTS }),
  'servers[].tls.tlsCertificates[].privateKey': gateway({ notYet: GW_FILE_CERTS }),
  'servers[].tls.tlsCertificates[].caCertificates': gateway({ notYet: GW_FILE_CERTS }),
  'servers[].tls.minProtocolVersion': gateway(),
  'servers[].tls.maxProtocolVersion': gateway(),
  'servers[].tls.cipherSuites': gateway(),
  'servers[].tls.serverCertificate': gateway({ notYet: GW_FILE_CERTS }),
  'servers[].tls.privateKey': gateway({ notYet: GW_FILE_CERTS }),
  'servers[].tls.caCertificates': gateway({ notYet: GW_FILE_CERTS }),
  'servers[].tls.caCrl': gateway({ notYet: 'certificate revocation lists are not generated yet' }),
  'servers[].tls.subjectAltNames': gateway({ notYet: 'client certificates are verified against the CA only (no SAN pinning yet)' }),
  'servers[].tls.verifyCertificateSpki': gateway({ notYet: 'client certificates are verified against the CA only (no SPKI pinning yet)' }),
  'servers[].tls.verifyCertificateHash': gateway({ notYet: 'client certificates are verified against the CA only (no hash pinning yet)' }),
  'servers[].tls.insecureSkipVerify': gateway({ notYet: 'client certificates are always verified when asked for' }),
};

const endpointFields = (prefix: string): Record<string, Application> => ({
  [`${prefix}address`]: both,
  [`${prefix}ports`]: both,
  [`${prefix}labels`]: both,
  [`${prefix}locality`]: both,
  [`${prefix}weight`]: both,
  [`${prefix}serviceAccount`]: both,
  [`${prefix}network`]: none(NO_NETWORKS),
});

const ServiceEntry: Record<string, Application> = {
  hosts: both,
  addresses: envoyNa('gRPC dials hosts by name: it needs no virtual IP'),
  'ports[].number': both,
  'ports[].protocol': both,
  'ports[].name': both,
  'ports[].targetPort': both,
  location: both,
  resolution: both,
  ...endpointFields('endpoints[].'),
  'workloadSelector.labels': both,
  exportTo: none(NO_EXPORT_TO, ['*']),
  subjectAltNames: none("the endpoints' certificates are not checked against subjectAltNames yet"),
};

const WorkloadEntry: Record<string, Application> = endpointFields('');

export const applied: Record<ParityKind, Record<string, Application>> = { VirtualService, DestinationRule, Gateway, ServiceEntry, WorkloadEntry };

/** The clients of each kind: a Gateway is always served by Envoy. */
export const CLIENTS: Record<ParityKind, ReadonlyArray<'envoy' | 'proxyless'>> = {
  VirtualService: ['envoy', 'proxyless'],
  DestinationRule: ['envoy', 'proxyless'],
  Gateway: ['envoy'],
  ServiceEntry: ['envoy', 'proxyless'],
  WorkloadEntry: ['envoy', 'proxyless'],
};

/** A DestinationRule's traffic policy is classified once for every place it appears. */
export function canonicalPath(kind: ParityKind, path: string): string {
  if (kind !== 'DestinationRule') return path;
  return path.replace(/^subsets\[\]\.trafficPolicy\./, 'trafficPolicy.').replace(/^trafficPolicy\.portLevelSettings\[\]\./, 'trafficPolicy.');
}

/** The classification of a field path (as in istio-fields.ts), or undefined when there is none. */
export function applicationOf(kind: ParityKind, path: string): Application | undefined {
  return applied[kind][canonicalPath(kind, path)];
}
