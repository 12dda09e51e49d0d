// MeshPolicy: Weft's own kind. One resource for what Istio spreads over PeerAuthentication (mtls),
// AuthorizationPolicy (authorization), Telemetry (telemetry) and rate limiting (rateLimit).
//
// Scope (see docs/api.md for the precedence rules): in the root namespace `weft-system` a MeshPolicy applies
// mesh-wide, in any other namespace namespace-wide, and with `selector` only to the selected workloads.
import Type, { type Static } from 'typebox';
import { MAX, WorkloadSelector, bool, cel, countOf, int, list, map, port, str, strEnum, type MeshObject } from './common.js';

export const MTLS_MODES = ['STRICT', 'PERMISSIVE', 'DISABLE'] as const;

export const MutualTLS = Type.Object(
  {
    mode: strEnum(
      [...MTLS_MODES],
      'STRICT: only mutual TLS is accepted; PERMISSIVE: both mutual TLS and plaintext are accepted; DISABLE: plaintext only.',
    ),
  },
  { description: 'Peer authentication: whether workloads accept mutual TLS, plaintext or both (Istio PeerAuthentication).' },
);
export type MutualTLS = Static<typeof MutualTLS>;

const principal = str('A SPIFFE identity without the spiffe:// prefix, e.g. cluster.local/ns/default/sa/reviews; `*` wildcards at either end.', {
  maxLength: MAX.path,
});
const namespace = str('A namespace; `*` wildcards at either end.', { maxLength: MAX.name });
// The shape only: CEL's isIP/isCIDR on every list item of every rule exceeds the CRD's cost budget, so the
// operator checks each value exactly (src/mesh/meshpolicy.ts).
const IP_BLOCK_PATTERN = '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$';
const ipBlock = str('An IP address or a CIDR block (10.0.0.0/16).', { maxLength: 64, pattern: IP_BLOCK_PATTERN });
const FROM_FIELDS = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks'] as const;
const TO_FIELDS = ['hosts', 'notHosts', 'paths', 'notPaths', 'methods', 'notMethods', 'ports', 'notPorts'] as const;

export const RuleFrom = Type.Object(
  {
    principals: Type.Optional(list(principal, 'Peer identities (from mutual TLS) allowed to match.', MAX.shortList, { minItems: 1 })),
    notPrincipals: Type.Optional(list(principal, 'Peer identities that must not match (a peer without mutual TLS matches none).', MAX.shortList, { minItems: 1 })),
    namespaces: Type.Optional(list(namespace, 'Namespaces of the peers (from mutual TLS).', MAX.shortList, { minItems: 1 })),
    notNamespaces: Type.Optional(list(namespace, 'Namespaces the peer must not be in.', MAX.shortList, { minItems: 1 })),
    ipBlocks: Type.Optional(list(ipBlock, 'Source addresses of the connection: an IP or a CIDR block.', MAX.shortList, { minItems: 1 })),
    notIpBlocks: Type.Optional(list(ipBlock, 'Source addresses that must not match.', MAX.shortList, { minItems: 1 })),
  },
  {
    description: 'Request sources; all fields set must match (AND). Principals and namespaces need mutual TLS to know the peer.',
    ...cel({ rule: `${countOf(...FROM_FIELDS.map((f) => `has(self.${f})`))} >= 1`, message: `set at least one of ${FROM_FIELDS.join(', ')}` }),
  },
);
export type RuleFrom = Static<typeof RuleFrom>;

const path = str('A path, e.g. /reviews.Reviews/GetReview for gRPC; `*` wildcards at either end.', { maxLength: MAX.path });
const method = str('An HTTP method; gRPC uses POST.', { maxLength: 32, pattern: '^[A-Z]+$|^\\*$' });

const host = str('A host as the request names it (its authority), without the port; `*` wildcards at either end.', { maxLength: MAX.host });

export const RuleTo = Type.Object(
  {
    hosts: Type.Optional(list(host, 'Hosts the request is for (case-insensitive).', MAX.shortList, { minItems: 1 })),
    notHosts: Type.Optional(list(host, 'Hosts the request must not be for.', MAX.shortList, { minItems: 1 })),
    paths: Type.Optional(list(path, 'Request paths (HTTP path or /package.Service/Method).', MAX.shortList, { minItems: 1 })),
    notPaths: Type.Optional(list(path, 'Request paths that must not match.', MAX.shortList, { minItems: 1 })),
    methods: Type.Optional(list(method, 'HTTP methods.', 16, { minItems: 1 })),
    notMethods: Type.Optional(list(method, 'HTTP methods that must not match.', 16, { minItems: 1 })),
    ports: Type.Optional(list(port('A port number.'), 'Destination ports.', MAX.shortList, { minItems: 1 })),
    notPorts: Type.Optional(list(port('A port number.'), 'Destination ports that must not match.', MAX.shortList, { minItems: 1 })),
  },
  {
    description: 'Request operations; all fields set must match (AND).',
    ...cel({ rule: `${countOf(...TO_FIELDS.map((f) => `has(self.${f})`))} >= 1`, message: `set at least one of ${TO_FIELDS.join(', ')}` }),
  },
);
export type RuleTo = Static<typeof RuleTo>;

/** The attributes a `when` condition may name (Istio's, without JWT's request.auth.*: Weft has no RequestAuthentication). */
export const CONDITION_KEY_PATTERN = '^(request\\.headers\\[[^\\]]+\\]|source\\.(ip|namespace|principal|trustDomain)|remote\\.ip|destination\\.(ip|port)|connection\\.sni)$';

export const Condition = Type.Object(
  {
    key: str(
      'The attribute: request.headers[<name>], source.ip, remote.ip, source.namespace, source.principal, source.trustDomain, destination.ip, destination.port or connection.sni.',
      { maxLength: MAX.name, pattern: CONDITION_KEY_PATTERN },
    ),
    values: Type.Optional(list(str('A value; `*` wildcards at either end (IP keys: an IP or a CIDR block).', { maxLength: MAX.path }), 'Values; any one must match.', MAX.shortList, { minItems: 1 })),
    notValues: Type.Optional(list(str('A value the attribute must not have.', { maxLength: MAX.path }), 'Values none of which may match.', MAX.shortList, { minItems: 1 })),
  },
  {
    description: 'An extra condition on the request (Istio AuthorizationPolicy `when`).',
    // IP keys' values must be IPs or CIDR blocks, destination.port's port numbers: checked by the operator (as
    // ipBlocks), where CEL's cost budget does not reach.
    ...cel({ rule: 'has(self.values) || has(self.notValues)', message: 'set values, notValues or both' }),
  },
);
export type Condition = Static<typeof Condition>;

export const AuthorizationRule = Type.Object(
  {
    from: Type.Optional(list(RuleFrom, 'Sources; any one must match (OR). Absent means any source.', MAX.shortList, { minItems: 1 })),
    to: Type.Optional(list(RuleTo, 'Operations; any one must match (OR). Absent means any operation.', MAX.shortList, { minItems: 1 })),
    when: Type.Optional(list(Condition, 'Extra conditions; all must hold (AND).', MAX.shortList, { minItems: 1 })),
  },
  { description: 'A request matches the rule when it matches from, to and when. An empty rule matches every request.' },
);
export type AuthorizationRule = Static<typeof AuthorizationRule>;

export const Authorization = Type.Object(
  {
    action: strEnum(['ALLOW', 'DENY'], 'ALLOW: only matching requests are allowed; DENY: matching requests are denied.'),
    rules: Type.Optional(list(AuthorizationRule, 'Rules; a request matches the policy when it matches any rule (OR).', MAX.rules)),
  },
  {
    description:
      'Access control (Istio AuthorizationPolicy). DENY policies are evaluated before ALLOW policies. An ALLOW policy ' +
      'without rules matches nothing, so it denies every request to the workloads in scope.',
    ...cel({
      rule: "self.action != 'DENY' || (has(self.rules) && size(self.rules) > 0)",
      message: 'rules must not be empty when action is DENY',
      fieldPath: '.rules',
      reason: 'FieldValueRequired',
    }),
  },
);
export type Authorization = Static<typeof Authorization>;

export const RateLimit = Type.Object(
  {
    requestsPerUnit: int('Requests allowed per unit of time, per workload instance.', 1, 1_000_000_000),
    unit: strEnum(['SECOND', 'MINUTE', 'HOUR'], 'The unit of time of requestsPerUnit.'),
    burst: Type.Optional(int('Token bucket size: requests allowed in a burst; requestsPerUnit by default.', 1, 1_000_000_000)),
  },
  {
    description:
      'Local rate limiting of inbound requests on Envoy sidecars (a token bucket per workload instance and inbound port). ' +
      'Proxyless gRPC clients cannot enforce it.',
    ...cel({
      rule: '!has(self.burst) || self.burst >= self.requestsPerUnit',
      message: 'burst must be at least requestsPerUnit',
      fieldPath: '.burst',
    }),
  },
);
export type RateLimit = Static<typeof RateLimit>;

export const Telemetry = Type.Object(
  {
    tracing: Type.Optional(
      Type.Object(
        {
          provider: Type.Optional(
            str('Tracing provider: opentelemetry (the default) or zipkin.', { maxLength: MAX.name, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
          ),
          endpoint: Type.Optional(str('Collector address as host:port.', { maxLength: MAX.host + 6, pattern: '^[^\\s:/]+:[0-9]{1,5}$' })),
          samplingPercentage: Type.Optional(
            Type.Number({ description: 'Percentage of requests to trace, 0-100; 1 by default.', minimum: 0, maximum: 100 }),
          ),
        },
        { description: 'Distributed tracing.' },
      ),
    ),
    accessLog: Type.Optional(
      Type.Object({ enabled: bool('Whether access logs are written.') }, { description: 'Access logging.' }),
    ),
  },
  { description: "Observability settings (Istio Telemetry) for Envoy sidecars' inbound traffic. Proxyless gRPC clients cannot apply them." },
);
export type Telemetry = Static<typeof Telemetry>;

export const MeshPolicySpec = Type.Object(
  {
    selector: Type.Optional(WorkloadSelector),
    mtls: Type.Optional(MutualTLS),
    portLevelMtls: Type.Optional(
      map(MutualTLS, "Per workload port (the port the workload listens on): the mode there, over the workload's own (Istio PeerAuthentication portLevelMtls).", {
        maxProperties: MAX.ports,
      }),
    ),
    authorization: Type.Optional(Authorization),
    rateLimit: Type.Optional(RateLimit),
    telemetry: Type.Optional(Telemetry),
  },
  {
    description:
      "Weft's mesh policy: mutual TLS, authorization, rate limiting and telemetry for the workloads in scope. In the root " +
      'namespace weft-system it applies mesh-wide, elsewhere namespace-wide; selector narrows it to matching workloads.',
    ...cel(
      {
        rule: `${countOf('has(self.mtls)', 'has(self.portLevelMtls)', 'has(self.authorization)', 'has(self.rateLimit)', 'has(self.telemetry)')} >= 1`,
        message: 'at least one of mtls, portLevelMtls, authorization, rateLimit or telemetry must be set',
      },
      // As Istio: port numbers are the workload's, so only a policy that selects workloads can name them.
      {
        rule: '!has(self.portLevelMtls) || (has(self.selector) && has(self.selector.matchLabels) && size(self.selector.matchLabels) > 0)',
        message: 'portLevelMtls needs a selector (port numbers are a workload\'s)',
        fieldPath: '.portLevelMtls',
      },
      {
        rule: "!has(self.portLevelMtls) || self.portLevelMtls.all(port, port.matches('^[1-9][0-9]{0,4}$') && int(port) <= 65535)",
        message: 'portLevelMtls keys must be port numbers',
        fieldPath: '.portLevelMtls',
      },
    ),
  },
);
export type MeshPolicySpec = Static<typeof MeshPolicySpec>;

export type MeshPolicy = MeshObject<'MeshPolicy', MeshPolicySpec>;
