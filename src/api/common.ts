// Pieces shared by the weft.dev/v1alpha1 kinds: the group/version, small schema builders that keep every field
// bounded (so CEL cost estimates pass), and the Istio-shaped building blocks (StringMatch, Destination, Percent,
// Headers, selectors) plus the status every kind reports. Field names follow Istio networking v1.
import Type, { type Static, type TSchema } from 'typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Json } from '../controllers/object.js';
import type { ValidationRule } from './structural.js';

export const GROUP = 'weft.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** Root namespace: a MeshPolicy here applies mesh-wide (like Istio's istio-system). */
export const ROOT_NAMESPACE = 'weft-system';

// ---------------------------------------------------------------------------------------------------------------
// Limits. Every list, map and string is bounded: the API server estimates the worst-case cost of each CEL rule
// from these bounds and refuses the CRD when a rule could be too expensive.
export const MAX = {
  hosts: 64,
  /** A DNS name (RFC 1123), or a Gateway host's `namespace/` prefix plus one. */
  host: 253,
  gateways: 32,
  name: 63,
  /** Labels, header maps and other string maps. */
  mapEntries: 64,
  /** Maps of StringMatch (headers, queryParams to match): each entry carries a CEL rule. */
  matchEntries: 16,
  labelValue: 63,
  routes: 128,
  matches: 32,
  destinations: 32,
  headerValue: 4096,
  regex: 1024,
  path: 1024,
  shortList: 32,
  ports: 64,
  endpoints: 256,
  servers: 64,
  subsets: 64,
  rules: 64,
  certPath: 1024,
} as const;

/** A duration such as `1.5s`, `100ms`, `1h30m`. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
/** A lowercase RFC 1123 label (namespaces). */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** An RFC 1123 label in any case, as Istio's IsDNS1123Label reads one: subset names, port names. */
export const MESH_LABEL_PATTERN = '^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$';
/** A Kubernetes object name (RFC 1123 subdomain). */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A DNS name with an optional leading `*.` wildcard, or `*` alone. Short names (`reviews`) are allowed. */
export const HOST_PATTERN = '^(\\*|(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$';
/** An HTTP header name as Istio validates it: RFC 7230 token characters; proxies compare names case-insensitively. */
export const HEADER_NAME_PATTERN = "^[-!#$%&'*+.^_`|~A-Za-z0-9]+$";
/** The HTTP/2 pseudo-headers a route may match on, as Istio allows them. */
export const PSEUDO_HEADERS: readonly string[] = [':method', ':scheme', ':authority', ':path', ':status'];
/** exportTo entries: `.` (this namespace), `*` (all), `~` (none) or a namespace name. */
export const EXPORT_TO_PATTERN = '^(\\.|\\*|~|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$';

// ---------------------------------------------------------------------------------------------------------------
// Builders. Each one sets the bounds above so no kind forgets them.

/** `x-kubernetes-validations` for a schema's options: CEL rules that a schema alone cannot say. */
export function cel(...rules: ValidationRule[]): { 'x-kubernetes-validations': ValidationRule[] } {
  return { 'x-kubernetes-validations': rules };
}

type Options = Record<string, unknown>;

export function str(description: string, options: Options = {}) {
  return Type.String({ description, maxLength: MAX.host, ...options });
}

/** A string enum; the static type is the union of the values. */
export function strEnum<const V extends string[]>(values: readonly [...V], description: string, options: Options = {}) {
  return Type.Enum(values, { description, type: 'string', ...options });
}

export function int(description: string, minimum: number, maximum: number, options: Options = {}) {
  const format = minimum >= -(2 ** 31) && maximum <= 2 ** 31 - 1 ? 'int32' : 'int64';
  return Type.Integer({ description, format, minimum, maximum, ...options });
}

export function bool(description: string) {
  return Type.Boolean({ description });
}

export function duration(description: string) {
  return Type.String({ description: `${description} A duration such as 1.5s, 100ms or 1h30m.`, pattern: DURATION_PATTERN, maxLength: 32 });
}

export function list<T extends TSchema>(items: T, description: string, maxItems: number, options: Options = {}) {
  return Type.Array(items, { description, maxItems, ...options });
}

/** A map from string keys to `value` (emitted as `additionalProperties`). */
export function map<T extends TSchema>(value: T, description: string, options: Options = {}) {
  return Type.Record(Type.String(), value, { description, maxProperties: MAX.mapEntries, ...options });
}

export function stringMap(description: string, valueMaxLength: number = MAX.labelValue) {
  return map(Type.String({ maxLength: valueMaxLength }), description);
}

export function labels(description: string) {
  return stringMap(description, MAX.labelValue);
}

export function port(description: string) {
  return int(description, 1, 65535);
}

export function hosts(description: string, options: Options = {}) {
  return list(Type.String({ maxLength: MAX.host, pattern: HOST_PATTERN }), description, MAX.hosts, options);
}

export const ExportTo = list(
  Type.String({ maxLength: MAX.name, pattern: EXPORT_TO_PATTERN }),
  'Namespaces this resource is visible in: `.` (its own), `*` (all, the default), `~` (none) or namespace names. ' +
    'The same as Istio exportTo.',
  MAX.shortList,
);

/** A Kubernetes quantity (`100m`, `128Mi`, `2`). */
export function quantity(description: string) {
  return Type.Union([Type.Integer(), Type.String()], {
    description,
    pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
    'x-kubernetes-int-or-string': true,
  });
}

/** An integer or a percentage string such as `50%` (PodDisruptionBudget minAvailable). */
export function intOrPercent(description: string) {
  return Type.Union([Type.Integer(), Type.String()], {
    description,
    pattern: '^([0-9]+%?)$',
    'x-kubernetes-int-or-string': true,
  });
}

/** Counts how many of the given CEL conditions hold: `(a ? 1 : 0) + (b ? 1 : 0)` (cheaper than a list filter). */
export function countOf(...conditions: string[]): string {
  return conditions.map((c) => `(${c} ? 1 : 0)`).join(' + ');
}

/** CEL: exactly one of the named optional fields of `self` is set. */
export function exactlyOneOf(...fields: string[]): string {
  return `${countOf(...fields.map((f) => `has(self.${f})`))} == 1`;
}

/** CEL: at most one of the named optional fields of `self` is set. */
export function atMostOneOf(...fields: string[]): string {
  return `${countOf(...fields.map((f) => `has(self.${f})`))} <= 1`;
}

// ---------------------------------------------------------------------------------------------------------------
// Istio building blocks.

/** The port protocols Weft generates configuration for, in their canonical (upper case) spelling. */
export const PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'HTTP2', 'MONGO', 'TCP', 'TLS'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/**
 * Istio's port protocol names (its protocol.Parse, which ignores case), upper-cased, and the protocol Weft
 * generates for each: gRPC-Web and HTTP_PROXY are HTTP, Redis and MySQL plain TCP (as Istio proxies them unless
 * their filters are enabled). UDP is left out: nothing in the mesh proxies it.
 */
export const ISTIO_PROTOCOLS: Readonly<Record<string, Protocol>> = {
  HTTP: 'HTTP',
  HTTP_PROXY: 'HTTP',
  'GRPC-WEB': 'HTTP',
  HTTP2: 'HTTP2',
  HTTPS: 'HTTPS',
  GRPC: 'GRPC',
  TCP: 'TCP',
  TLS: 'TLS',
  MONGO: 'MONGO',
  REDIS: 'TCP',
  MYSQL: 'TCP',
};

/** The protocol Weft generates for a port protocol as written (any case); TCP for a name it does not know. */
export function canonicalProtocol(written: string): Protocol {
  return ISTIO_PROTOCOLS[written.toUpperCase()] ?? 'TCP';
}

/** Opaque to the proxy: no HTTP to route (TLS is forwarded as it is, Mongo proxied as TCP). */
export function isTcpProtocol(protocol: Protocol | undefined): boolean {
  return protocol === 'TCP' || protocol === 'TLS' || protocol === 'MONGO';
}

/** Plain-text HTTP: routed by its requests, no TLS to end (HTTP, HTTP2, gRPC). */
export function isPlainHttpProtocol(protocol: Protocol): boolean {
  return protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC';
}

/**
 * A Gateway server's or ServiceEntry's port protocol: one of Istio's names, in any case, as Istio accepts them; a
 * ServiceEntry's may be empty too (`orUnset`: Istio's "sniff it", served as if unset).
 */
export function protocolField(description: string, orUnset = false) {
  const names = Object.keys(ISTIO_PROTOCOLS);
  return str(description, {
    maxLength: 16,
    ...cel({
      rule: `${orUnset ? "self == '' || " : ''}self.upperAscii() in [${names.map((n) => `'${n}'`).join(', ')}]`,
      message: `must be one of ${names.join(', ')} (in any case)`,
      messageExpression: `'unsupported protocol "' + self + '": one of ${names.join(', ')} (in any case)'`,
    }),
  });
}

/**
 * Istio StringMatch: at most one of exact, prefix, regex (RE2). As in Istio, an empty match (`{}`) constrains no
 * value: a header or query parameter matched by `{}` (or by the regex `*`) need only be present.
 */
export const StringMatch = Type.Object(
  {
    exact: Type.Optional(str('Exact string match.', { maxLength: MAX.headerValue })),
    prefix: Type.Optional(str('Prefix-based match.', { maxLength: MAX.headerValue })),
    regex: Type.Optional(str('RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax).', { maxLength: MAX.regex })),
  },
  {
    description:
      'Describes how to match a given string: one of exact, prefix or regex. Empty ({}) matches any value: for a header or query parameter, its presence (as does the regex "*").',
    ...cel({ rule: atMostOneOf('exact', 'prefix', 'regex'), message: 'at most one of exact, prefix or regex may be set' }),
  },
);

/**
 * Whether a StringMatch constrains no value: `{}`, the prefix "" (every value has it; Envoy refuses an empty
 * prefix matcher), and for a header or query parameter (`named`) Istio's regex `*` too. There it is a presence match.
 */
export function matchesAnyValue(m: StringMatch, named = false): boolean {
  return m.exact === undefined && (m.prefix === undefined || m.prefix === '') && (m.regex === undefined || (named && m.regex === '*'));
}
export type StringMatch = Static<typeof StringMatch>;

/** Istio PortSelector. */
export const PortSelector = Type.Object(
  { number: port('Valid port number.') },
  { description: 'Specifies the number of a port to be used for matching or selection.' },
);
export type PortSelector = Static<typeof PortSelector>;

/** Istio Percent: a value in [0.0, 100.0]. */
export const Percent = Type.Object(
  { value: Type.Number({ description: 'A percentage between 0.0 and 100.0.', minimum: 0, maximum: 100 }) },
  { description: 'Percent specifies a percentage in the range of [0.0, 100.0].' },
);
export type Percent = Static<typeof Percent>;

/** Istio Destination: a service (host), optionally a subset of it and a port. */
export const Destination = Type.Object(
  {
    host: str(
      'The name of a service from the service registry: a Kubernetes Service or a host declared by a ServiceEntry. ' +
        'Use fully qualified names (reviews.default.svc.cluster.local); short names are resolved in the namespace of the rule.',
      { pattern: HOST_PATTERN, minLength: 1 },
    ),
    subset: Type.Optional(
      str('The name of a subset within the service, defined in a DestinationRule.', { maxLength: MAX.name, pattern: MESH_LABEL_PATTERN }),
    ),
    port: Type.Optional(PortSelector),
  },
  { description: 'Destination indicates the network addressable service to which the request/connection will be sent.' },
);
export type Destination = Static<typeof Destination>;

export const HeaderOperations = Type.Object(
  {
    set: Type.Optional(stringMap('Overwrite the headers specified by key with the given values.', MAX.headerValue)),
    add: Type.Optional(stringMap('Append the given values to the headers specified by keys.', MAX.headerValue)),
    remove: Type.Optional(list(Type.String({ maxLength: MAX.name * 4, pattern: HEADER_NAME_PATTERN }), 'Remove the specified headers.', MAX.mapEntries)),
  },
  { description: 'HeaderOperations describes the header manipulations to apply.' },
);
export type HeaderOperations = Static<typeof HeaderOperations>;

/** Istio Headers: request and response header manipulation. */
export const Headers = Type.Object(
  {
    request: Type.Optional(HeaderOperations),
    response: Type.Optional(HeaderOperations),
  },
  { description: 'Message headers can be manipulated when Weft forwards requests to, or responses from, a destination.' },
);
export type Headers = Static<typeof Headers>;

/** Networking WorkloadSelector (ServiceEntry): `labels`. */
export const WorkloadLabelsSelector = Type.Object(
  // Optional, as in Istio: an empty selector selects every workload of the namespace.
  { labels: Type.Optional(labels('One or more labels that indicate a specific set of pods/VMs/WorkloadEntries; none selects all of the namespace.')) },
  { description: 'WorkloadSelector selects workloads (Pods and WorkloadEntries) by labels.' },
);
export type WorkloadLabelsSelector = Static<typeof WorkloadLabelsSelector>;

/** Istio type.v1beta1 WorkloadSelector (DestinationRule, MeshPolicy): `matchLabels`. */
export const WorkloadSelector = Type.Object(
  {
    matchLabels: labels(
      'One or more labels that indicate a specific set of pods/VMs on which the configuration should be applied. ' +
        'The scope of label search is restricted to the namespace in which the resource is present.',
    ),
  },
  { description: 'WorkloadSelector specifies the criteria used to determine if a policy can be applied to a workload.' },
);
export type WorkloadSelector = Static<typeof WorkloadSelector>;

// ---------------------------------------------------------------------------------------------------------------
// Status.

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

/** A metav1.Condition. */
export const Condition = Type.Object(
  {
    type: Type.String({
      description: 'Type of condition in CamelCase, e.g. Ready, Accepted, Programmed.',
      maxLength: 316,
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: strEnum([...CONDITION_STATUSES], 'Status of the condition: True, False or Unknown.'),
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'The .metadata.generation the condition was set for.', format: 'int64', minimum: 0 }),
    ),
    lastTransitionTime: Type.String({ description: 'When the condition last changed from one status to another.', format: 'date-time' }),
    reason: Type.String({
      description: 'A programmatic identifier in CamelCase for the reason of the last transition.',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Type.String({ description: 'A human-readable message with details about the transition.', maxLength: 32768 }),
  },
  { description: 'Condition contains details for one aspect of the current state of the resource.' },
);
export type Condition = Static<typeof Condition>;

/** The status every weft.dev kind reports. */
export const MeshStatus = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'The most recent .metadata.generation the operator has processed.', format: 'int64', minimum: 0 }),
    ),
    conditions: Type.Optional(
      Type.Array(Condition, {
        description: 'The current state of the resource: Accepted, Programmed, Ready.',
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    ),
    proxies: Type.Optional(
      Type.Object(
        {
          acked: Type.Integer({ description: 'Proxies that acknowledged the configuration for this resource.', format: 'int32', minimum: 0 }),
          expected: Type.Integer({ description: 'Proxies that this resource applies to.', format: 'int32', minimum: 0 }),
        },
        { description: 'xDS sync state of the proxies this resource applies to.' },
      ),
    ),
    synced: Type.Optional(
      Type.String({ description: 'acked/expected, e.g. 12/12 (for kubectl get).', pattern: '^[0-9]+/[0-9]+$', maxLength: 24 }),
    ),
    lastAccepted: Type.Optional(
      Type.Object(
        {
          generation: Type.Integer({ description: 'The generation whose spec this is.', format: 'int64', minimum: 1 }),
          spec: Type.Object({}, { description: 'The spec of that generation, as it was accepted.', 'x-kubernetes-preserve-unknown-fields': true }),
        },
        {
          description:
            'The last accepted generation of the spec: what proxies keep being served while a newer generation is not accepted, across ' +
            'operator restarts and leader changes. Absent when no generation was accepted yet, or the spec is larger than 128 KiB.',
        },
      ),
    ),
  },
  { description: 'Status reported by the Weft operator.' },
);
export type MeshStatus = Static<typeof MeshStatus>;

/**
 * Object metadata as it travels on the wire (JSON): timestamps are RFC 3339 strings, not the `Date`s of
 * client-node's V1ObjectMeta, because custom objects are never run through client-node's model deserializer.
 */
export type ObjectMeta = Json<V1ObjectMeta>;

/** The full object of a weft.dev kind, as read from or written to the API server. */
export interface MeshObject<Kind extends string, Spec> {
  apiVersion: typeof API_VERSION;
  kind: Kind;
  metadata: ObjectMeta;
  spec: Spec;
  status?: MeshStatus;
}
