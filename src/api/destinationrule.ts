// DestinationRule: policies for traffic to a service after routing (load balancing, connection pools, outlier
// detection, client TLS) and its subsets. Field names are Istio networking v1's.
import Type, { type Static } from 'typebox';
import {
  MESH_LABEL_PATTERN,
  ExportTo,
  HOST_PATTERN,
  MAX,
  PortSelector,
  WorkloadSelector,
  atMostOneOf,
  bool,
  cel,
  duration,
  exactlyOneOf,
  int,
  labels,
  list,
  port,
  str,
  strEnum,
  type MeshObject,
} from './common.js';
import { LocalityLoadBalancerSetting } from './locality.js';

const INT32_MAX = 2 ** 31 - 1;

export const SIMPLE_LB = ['UNSPECIFIED', 'LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_CONN'] as const;

export const ConsistentHashLB = Type.Object(
  {
    httpHeaderName: Type.Optional(str('Hash based on a specific HTTP header.', { maxLength: 256 })),
    httpCookie: Type.Optional(
      Type.Object(
        {
          name: str('Name of the cookie.', { minLength: 1, maxLength: 256 }),
          path: Type.Optional(str('Path to set for the cookie.', { maxLength: MAX.path })),
          ttl: Type.Optional(duration('Lifetime of the cookie; a cookie is generated if absent.')),
          attributes: Type.Optional(
            list(
              Type.Object(
                {
                  name: str('Name of the cookie attribute.', { minLength: 1, maxLength: 256 }),
                  value: Type.Optional(str('Value of the cookie attribute.', { maxLength: MAX.headerValue })),
                },
                { description: 'An additional attribute of the generated cookie, e.g. SameSite=Strict.' },
              ),
              'Additional attributes of the generated cookie.',
              MAX.shortList,
              // Unique names (Istio: "duplicate cookie attribute name") are checked by the operator (src/mesh/destinationrule.ts):
              // nested under subsets and port-level settings, a CEL rule over the list costs more than the API server allows.
            ),
          ),
        },
        { description: 'Hash based on an HTTP cookie.' },
      ),
    ),
    useSourceIp: Type.Optional(bool('Hash based on the source IP address.')),
    httpQueryParameterName: Type.Optional(str('Hash based on a specific HTTP query parameter.', { maxLength: 256 })),
    ringHash: Type.Optional(
      Type.Object(
        { minimumRingSize: Type.Optional(int('The minimum number of virtual nodes for the hash ring; 1024 by default.', 1, 8388608)) },
        { description: 'Use the ring hash (ketama) algorithm.' },
      ),
    ),
    minimumRingSize: Type.Optional(
      int('Deprecated: use ringHash.minimumRingSize. The minimum number of virtual nodes for the hash ring.', 0, Number.MAX_SAFE_INTEGER),
    ),
    maglev: Type.Optional(
      Type.Object(
        { tableSize: Type.Optional(int('The table size for Maglev hashing; a prime, 65537 by default.', 1, 5000011)) },
        { description: 'Use the Maglev load balancer.' },
      ),
    ),
  },
  {
    description: 'Consistent hash-based load balancing (soft session affinity): exactly one hash key, optionally ringHash or maglev.',
    ...cel(
      {
        rule: exactlyOneOf('httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'),
        message: 'exactly one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName must be set',
      },
      { rule: atMostOneOf('ringHash', 'maglev'), message: 'ringHash and maglev are mutually exclusive', fieldPath: '.maglev' },
      {
        rule: "!has(self.minimumRingSize) || self.minimumRingSize == 0 || !(has(self.ringHash) || has(self.maglev))",
        message: 'only one of minimumRingSize or maglev/ringHash can be specified',
        fieldPath: '.minimumRingSize',
      },
    ),
  },
);
export type ConsistentHashLB = Static<typeof ConsistentHashLB>;

const localityFailover = Type.Object(
  {
    from: Type.Optional(str('Originating region.', { maxLength: MAX.host })),
    to: Type.Optional(str('Destination region the traffic fails over to when endpoints in the from region become unhealthy.', { maxLength: MAX.host })),
  },
  { description: 'Specify the traffic failover policy across regions.' },
);

export const ZoneAwareLoadBalancerSetting = Type.Object(
  {
    enabled: Type.Optional(bool('Enable zone aware load balancing.')),
    failover: Type.Optional(
      // Istio's rules for the regions (different, no zone, no wildcard) are checked by the operator
      // (src/mesh/destinationrule.ts): nested as it is, a CEL rule over the list costs more than the API server allows.
      list(localityFailover, 'Explicitly specify the region traffic will land on when endpoints in the local region become unhealthy.', MAX.shortList),
    ),
    failoverPriority: Type.Optional(
      list(str('A label (or label=value) endpoints are ordered by.', { maxLength: MAX.host }), 'An ordered list of labels used to sort endpoints for priority-based load balancing.', MAX.shortList, {
        ...cel({
          rule: "self.all(l, !(l in ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']))",
          message: 'failoverPriority for zone aware lb must not use topology labels; region- and zone-level routing are handled automatically',
        }),
      }),
    ),
    minClusterSize: Type.Optional(int('Below this many hosts in the cluster, zone aware routing is off.', 1, Number.MAX_SAFE_INTEGER)),
  },
  { description: 'Zone aware load balancer settings (Envoy zone aware routing).' },
);

export const WarmupConfiguration = Type.Object(
  {
    duration: duration('Duration of the warmup (slow start) window of a new endpoint.'),
    minimumPercent: Type.Optional(Type.Number({ description: 'Minimum percentage of traffic an endpoint gets at the start of warmup, 0-100.', minimum: 0, maximum: 100 })),
    aggression: Type.Optional(Type.Number({ description: 'How fast traffic increases over the warmup window; 1 is linear. Must be greater than 0.', minimum: 0 })),
  },
  {
    description: 'Slow start: a new endpoint gets progressively more traffic over the warmup duration.',
    // Istio: "aggression should be greater than 0".
    ...cel({ rule: '!has(self.aggression) || self.aggression > 0.0', message: 'aggression must be greater than 0', fieldPath: '.aggression' }),
  },
);

export const LoadBalancerSettings = Type.Object(
  {
    simple: Type.Optional(strEnum([...SIMPLE_LB], 'A standard load balancing algorithm.')),
    consistentHash: Type.Optional(ConsistentHashLB),
    localityLbSetting: Type.Optional(LocalityLoadBalancerSetting),
    zoneAwareLbSetting: Type.Optional(ZoneAwareLoadBalancerSetting),
    warmupDurationSecs: Type.Optional(duration('Deprecated: use warmup.')),
    warmup: Type.Optional(WarmupConfiguration),
  },
  {
    description: 'Load balancing policy: simple or consistentHash.',
    ...cel(
      { rule: atMostOneOf('simple', 'consistentHash'), message: 'simple and consistentHash are mutually exclusive', fieldPath: '.consistentHash' },
      { rule: atMostOneOf('localityLbSetting', 'zoneAwareLbSetting'), message: 'localityLbSetting and zoneAwareLbSetting are mutually exclusive', fieldPath: '.zoneAwareLbSetting' },
    ),
  },
);
export type LoadBalancerSettings = Static<typeof LoadBalancerSettings>;

export const ConnectionPoolSettings = Type.Object(
  {
    tcp: Type.Optional(
      Type.Object(
        {
          maxConnections: Type.Optional(int('Maximum number of HTTP1/TCP connections to a destination host.', 1, INT32_MAX)),
          connectTimeout: Type.Optional(duration('TCP connection timeout.')),
          tcpKeepalive: Type.Optional(
            Type.Object(
              {
                probes: Type.Optional(int('Maximum number of keepalive probes without response before the connection is dead.', 1, INT32_MAX)),
                time: Type.Optional(duration('Idle time before keep-alive probes are sent.')),
                interval: Type.Optional(duration('Time between keep-alive probes.')),
              },
              { description: 'TCP keepalive.' },
            ),
          ),
          maxConnectionDuration: Type.Optional(duration('Maximum duration of a connection.')),
          idleTimeout: Type.Optional(duration('Idle timeout for TCP connections.')),
        },
        { description: 'Settings common to both HTTP and TCP upstream connections.' },
      ),
    ),
    http: Type.Optional(
      Type.Object(
        {
          http1MaxPendingRequests: Type.Optional(int('Maximum number of requests queued while waiting for a connection.', 1, INT32_MAX)),
          http2MaxRequests: Type.Optional(int('Maximum number of active requests to a destination.', 1, INT32_MAX)),
          maxRequestsPerConnection: Type.Optional(int('Maximum number of requests per connection; 0 means unlimited.', 0, INT32_MAX)),
          maxRetries: Type.Optional(int('Maximum number of retries outstanding to all hosts in a cluster.', 0, INT32_MAX)),
          idleTimeout: Type.Optional(duration('Idle timeout for upstream connection pool connections.')),
          h2UpgradePolicy: Type.Optional(strEnum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'], 'Whether HTTP/1.1 connections are upgraded to HTTP/2.')),
          useClientProtocol: Type.Optional(bool('Preserve the protocol of the client request.')),
          maxConcurrentStreams: Type.Optional(int('Maximum number of concurrent streams per HTTP/2 connection.', 1, INT32_MAX)),
          http2KeepAlive: Type.Optional(
            Type.Object(
              {
                // Both required, as Istio's validation says ("http2 keepalive interval/timeout is required").
                interval: duration('Interval between HTTP/2 PING frames.'),
                timeout: duration('How long to wait for a PING response before closing the connection.'),
              },
              { description: 'HTTP/2 keepalive (PING frames) on upstream connections.' },
            ),
          ),
        },
        { description: 'Settings applicable to HTTP1.1/HTTP2/GRPC connections.' },
      ),
    ),
  },
  { description: 'Connection pool settings for an upstream host.' },
);
export type ConnectionPoolSettings = Static<typeof ConnectionPoolSettings>;

export const OutlierDetection = Type.Object(
  {
    splitExternalLocalOriginErrors: Type.Optional(bool('Distinguish local origin failures from external errors.')),
    consecutiveLocalOriginFailures: Type.Optional(int('Consecutive locally originated failures before ejection.', 0, INT32_MAX)),
    consecutiveGatewayErrors: Type.Optional(int('Consecutive gateway errors (502, 503, 504) before a host is ejected; 0 disables.', 0, INT32_MAX)),
    consecutive5xxErrors: Type.Optional(int('Consecutive 5xx errors before a host is ejected; 0 disables.', 0, INT32_MAX)),
    interval: Type.Optional(duration('Time interval between ejection sweep analysis.')),
    baseEjectionTime: Type.Optional(duration('Minimum ejection duration.')),
    maxEjectionPercent: Type.Optional(int('Maximum percentage of hosts in the pool that can be ejected.', 0, 100)),
    minHealthPercent: Type.Optional(int('Outlier detection is enabled while at least this percentage of hosts is healthy.', 0, 100)),
    consecutiveErrors: Type.Optional(int('Deprecated: use consecutive5xxErrors or consecutiveGatewayErrors.', 0, INT32_MAX)),
    outlierDetectionHttpErrorCodes: Type.Optional(
      list(int('An HTTP status code, 100-599.', 100, 599), 'The HTTP status codes counted as errors (5xx when not set).', MAX.shortList),
    ),
  },
  { description: 'A circuit breaker that tracks the status of each individual host in the upstream service.' },
);
export type OutlierDetection = Static<typeof OutlierDetection>;

export const ClientTLSSettings = Type.Object(
  {
    mode: Type.Optional(strEnum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'], 'How to secure connections to the upstream.')),
    clientCertificate: Type.Optional(str('Path to the client certificate file (MUTUAL).', { maxLength: MAX.certPath })),
    privateKey: Type.Optional(str('Path to the client private key file (MUTUAL).', { maxLength: MAX.certPath })),
    caCertificates: Type.Optional(str('Path to the CA certificates file to verify the server.', { maxLength: MAX.certPath })),
    caCrl: Type.Optional(str('Path to the certificate revocation list file.', { maxLength: MAX.certPath })),
    credentialName: Type.Optional(str('Name of a Secret in the same namespace holding the client certificate, key and CA.', { maxLength: MAX.host })),
    subjectAltNames: Type.Optional(list(str('A subject alternative name.'), 'Alternate names to verify the subject identity in the certificate.', MAX.shortList)),
    sni: Type.Optional(str('SNI string to present to the server during the TLS handshake.')),
    insecureSkipVerify: Type.Optional(bool('Skip verifying the server certificate (SIMPLE/MUTUAL only).')),
  },
  {
    description: 'SSL/TLS related settings for upstream connections.',
    ...cel({
      rule: "!has(self.mode) || self.mode != 'MUTUAL' || has(self.credentialName) || (has(self.clientCertificate) && has(self.privateKey))",
      message: 'mode MUTUAL requires credentialName, or clientCertificate and privateKey',
    }),
  },
);
export type ClientTLSSettings = Static<typeof ClientTLSSettings>;

const policyFields = {
  loadBalancer: Type.Optional(LoadBalancerSettings),
  connectionPool: Type.Optional(ConnectionPoolSettings),
  outlierDetection: Type.Optional(OutlierDetection),
  tls: Type.Optional(ClientTLSSettings),
};

export const PortTrafficPolicy = Type.Object(
  { port: PortSelector, ...policyFields },
  { description: 'Traffic policies that apply to a specific port of the service.' },
);
export type PortTrafficPolicy = Static<typeof PortTrafficPolicy>;

export const TunnelSettings = Type.Object(
  {
    protocol: Type.Optional(strEnum(['CONNECT', 'POST'], 'The HTTP method used to tunnel the TCP connection: CONNECT (default) or POST.')),
    targetHost: str('Host the tunnel connects to: a DNS name or an IP address.', {
      minLength: 1,
      ...cel({ rule: "isIP(self) || self.matches('^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\\\\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*$')", message: 'tunnel target host must be a valid FQDN or IP address' }),
    }),
    targetPort: port('Port the tunnel connects to.'),
  },
  { description: 'Tunnel TCP over HTTP CONNECT or POST to a proxy.' },
);

const trafficPolicyOnlyFields = {
  tunnel: Type.Optional(TunnelSettings),
  proxyProtocol: Type.Optional(
    Type.Object(
      { version: Type.Optional(strEnum(['V1', 'V2'], 'The PROXY protocol version: V1 (text) or V2 (binary).')) },
      { description: 'Send the PROXY protocol header to the upstream.' },
    ),
  ),
  retryBudget: Type.Optional(
    Type.Object(
      {
        percent: Type.Optional(Type.Number({ description: 'Share of active requests that may be retries, 0-100.', minimum: 0, maximum: 100 })),
        minRetryConcurrency: Type.Optional(int('Retries always allowed concurrently, whatever the budget.', 0, 4294967295)),
        budgetInterval: Type.Optional(duration('The interval over which the budget is computed.')),
      },
      { description: 'A retry budget: at most a share of active requests may be retries.' },
    ),
  ),
};

export const TrafficPolicy = Type.Object(
  {
    ...policyFields,
    ...trafficPolicyOnlyFields,
    portLevelSettings: Type.Optional(
      list(PortTrafficPolicy, 'Traffic policies specific to individual ports; they override the destination-level settings.', MAX.ports, {
        ...cel({ rule: 'self.all(p, self.exists_one(q, q.port.number == p.port.number))', message: 'port numbers must be unique' }),
      }),
    ),
  },
  {
    description: 'Traffic policies to apply for a specific destination, across all destination ports.',
    // Istio: "tunnel and proxyProtocol must not be set together".
    ...cel({ rule: '!(has(self.tunnel) && has(self.proxyProtocol))', message: 'tunnel and proxyProtocol must not be set together', fieldPath: '.proxyProtocol' }),
  },
);
export type TrafficPolicy = Static<typeof TrafficPolicy>;

export const Subset = Type.Object(
  {
    name: str('Name of the subset; referenced by route destinations.', { minLength: 1, maxLength: MAX.name, pattern: MESH_LABEL_PATTERN }),
    labels: Type.Optional(labels('Labels that select the endpoints of this subset (ANDed with the service selector).')),
    trafficPolicy: Type.Optional(TrafficPolicy),
  },
  { description: 'A subset of endpoints of a service, e.g. one version.' },
);
export type Subset = Static<typeof Subset>;

export const DestinationRuleSpec = Type.Object(
  {
    host: str('The name of a service from the service registry (Kubernetes Service or ServiceEntry host).', {
      minLength: 1,
      pattern: HOST_PATTERN,
    }),
    trafficPolicy: Type.Optional(TrafficPolicy),
    subsets: Type.Optional(
      list(Subset, 'Named sets of endpoints of the service.', MAX.subsets, {
        ...cel({ rule: 'self.all(s, self.exists_one(t, t.name == s.name))', message: 'subset names must be unique' }),
      }),
    ),
    exportTo: Type.Optional(ExportTo),
    workloadSelector: Type.Optional(WorkloadSelector),
  },
  { description: 'DestinationRule defines policies that apply to traffic intended for a service after routing has occurred.' },
);
export type DestinationRuleSpec = Static<typeof DestinationRuleSpec>;

export type DestinationRule = MeshObject<'DestinationRule', DestinationRuleSpec>;
