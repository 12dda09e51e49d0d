// VirtualService: how requests to a host are routed. Field names are Istio networking v1's, so an Istio
// VirtualService ports over by changing its apiVersion. A VirtualService without hosts is a delegate: it serves only
// through the http routes of root VirtualServices that delegate to it (src/mesh/delegation.ts).
import Type, { type Static } from 'typebox';
import {
  DNS_LABEL_PATTERN,
  DNS_SUBDOMAIN_PATTERN,
  DURATION_PATTERN,
  Destination,
  ExportTo,
  HEADER_NAME_PATTERN,
  Headers,
  MAX,
  Percent,
  StringMatch,
  bool,
  cel,
  countOf,
  duration,
  exactlyOneOf,
  hosts,
  int,
  labels,
  list,
  map,
  port,
  str,
  strEnum,
  type MeshObject,
} from './common.js';

const gatewayNames = list(
  str('A Gateway name (`name` or `namespace/name`), or `mesh` for all sidecars/proxyless clients.', { maxLength: MAX.host }),
  'Names of gateways where the rule should be applied; `mesh` means every proxy in the mesh.',
  MAX.gateways,
);

const subnets = list(
  str('An IPv4 or IPv6 address or CIDR.', { maxLength: 64 }),
  'IPv4 or IPv6 addresses of destinations, with optional subnet (a.b.c.d/xx or a.b.c.d).',
  MAX.shortList,
  cel({ rule: 'self.all(s, isIP(s) || isCIDR(s))', message: 'each entry must be an IP address or a CIDR' }),
);

/** Weights of the destinations of one route: the sum is 100 as soon as more than one destination carries one. */
function weightsSumTo100(listField: string) {
  return {
    rule:
      `!has(self.${listField}) || self.${listField}.filter(r, has(r.weight)).size() <= 1 || ` +
      `self.${listField}.map(r, has(r.weight) ? r.weight : 0).sum() == 100`,
    message: 'route weights must sum to 100 when more than one destination has a weight',
    fieldPath: `.${listField}`,
  };
}

export const HTTPMatchRequest = Type.Object(
  {
    name: Type.Optional(str('The name assigned to a match; concatenated with the parent route name in logs and stats.', { maxLength: MAX.name })),
    uri: Type.Optional(StringMatch),
    scheme: Type.Optional(StringMatch),
    method: Type.Optional(StringMatch),
    authority: Type.Optional(StringMatch),
    headers: Type.Optional(map(StringMatch, 'Header values to match; keys are lowercase header names.', { maxProperties: MAX.matchEntries })),
    port: Type.Optional(port('The port on the host being addressed.')),
    sourceLabels: Type.Optional(labels('Limits the rule to workloads with these labels.')),
    gateways: Type.Optional(gatewayNames),
    queryParams: Type.Optional(map(StringMatch, 'Query parameters to match (exact or regex only in Istio; prefix is accepted too).', { maxProperties: MAX.matchEntries })),
    ignoreUriCase: Type.Optional(bool('Match the uri case-insensitively (exact and prefix only).')),
    withoutHeaders: Type.Optional(map(StringMatch, 'The request matches only if none of these headers match.', { maxProperties: MAX.matchEntries })),
    sourceNamespace: Type.Optional(str('Limits the rule to workloads in this namespace.', { maxLength: MAX.name })),
    statPrefix: Type.Optional(str('The human readable prefix to use when emitting statistics for this route.', { maxLength: MAX.name * 4 })),
  },
  { description: 'HttpMatchRequest specifies a set of criteria to be met for a rule to be applied to the HTTP request.' },
);
export type HTTPMatchRequest = Static<typeof HTTPMatchRequest>;

export const HTTPRouteDestination = Type.Object(
  {
    destination: Destination,
    weight: Type.Optional(int('Share of the traffic, 0-100. With one destination it gets all traffic.', 0, 100)),
    headers: Type.Optional(Headers),
  },
  { description: 'Each routing rule is associated with one or more service versions.' },
);
export type HTTPRouteDestination = Static<typeof HTTPRouteDestination>;

export const HTTPRedirect = Type.Object(
  {
    uri: Type.Optional(str('Overwrite the path portion of the URL.', { maxLength: MAX.path })),
    prefixRewrite: Type.Optional(
      str('Replace the matched prefix of the path (every uri match of the route must be a prefix match).', { maxLength: MAX.path }),
    ),
    authority: Type.Optional(str('Overwrite the authority/host portion of the URL.')),
    port: Type.Optional(port('Overwrite the port portion of the URL.')),
    derivePort: Type.Optional(
      strEnum(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'], 'Derive the port: 80/443 from the scheme, or the port of the request.'),
    ),
    scheme: Type.Optional(str('Overwrite the scheme portion of the URL.', { maxLength: 16, pattern: '^[a-z][a-z0-9+.-]*$' })),
    redirectCode: Type.Optional(Type.Enum([301, 302, 303, 307, 308], { description: 'HTTP status code of the redirect; 301 by default.', type: 'integer' })),
  },
  {
    description: 'HTTPRedirect is used to send a 301 (or other 3xx) redirect response to the caller.',
    ...cel(
      { rule: '!(has(self.port) && has(self.derivePort))', message: 'port and derivePort are mutually exclusive', fieldPath: '.derivePort' },
      // Istio: "redirect may only specify one of uri or prefix_rewrite".
      { rule: '!(has(self.uri) && has(self.prefixRewrite))', message: 'redirect may only specify one of uri or prefixRewrite', fieldPath: '.prefixRewrite' },
    ),
  },
);
export type HTTPRedirect = Static<typeof HTTPRedirect>;

export const HTTPDirectResponse = Type.Object(
  {
    status: int('HTTP status code of the response.', 200, 599),
    body: Type.Optional(
      Type.Object(
        {
          string: Type.Optional(Type.String({ description: 'Response body as a string.', maxLength: 65536 })),
          bytes: Type.Optional(Type.String({ description: 'Response body as base64 encoded bytes.', format: 'byte', maxLength: 65536 })),
        },
        {
          description: 'Response body: string or bytes.',
          ...cel({ rule: exactlyOneOf('string', 'bytes'), message: 'exactly one of string or bytes must be set' }),
        },
      ),
    ),
  },
  { description: 'HTTPDirectResponse sends a fixed response to clients.' },
);
export type HTTPDirectResponse = Static<typeof HTTPDirectResponse>;

export const HTTPRewrite = Type.Object(
  {
    uri: Type.Optional(str('Rewrite the path (or the prefix) portion of the URI.', { maxLength: MAX.path })),
    authority: Type.Optional(str('Rewrite the Authority/Host header.')),
    uriRegexRewrite: Type.Optional(
      Type.Object(
        {
          match: str('RE2 style regex-based match.', { maxLength: MAX.regex }),
          rewrite: str('The string to substitute into the path; capture groups as \\1.', { maxLength: MAX.path }),
        },
        { description: 'Rewrite the path with a regular expression.' },
      ),
    ),
  },
  {
    description: 'HTTPRewrite rewrites parts of the request before forwarding it.',
    ...cel({ rule: '!(has(self.uri) && has(self.uriRegexRewrite))', message: 'uri and uriRegexRewrite are mutually exclusive', fieldPath: '.uriRegexRewrite' }),
  },
);
export type HTTPRewrite = Static<typeof HTTPRewrite>;

export const HTTPRetry = Type.Object(
  {
    attempts: Type.Optional(int('Number of retries for a given request; 0 disables retries.', 0, 100)),
    perTryTimeout: Type.Optional(duration('Timeout per attempt.')),
    retryOn: Type.Optional(
      str('Comma-separated retry conditions, e.g. 5xx,gateway-error,connect-failure or gRPC codes cancelled,unavailable.', {
        maxLength: 512,
        pattern: '^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$',
      }),
    ),
    retryRemoteLocalities: Type.Optional(bool('Retry to other localities.')),
    backoff: Type.Optional(
      Type.String({
        description:
          'Minimum duration between retry attempts: the base interval of the exponential backoff (25ms when unset; ' +
          'the interval grows up to 10 times this). At least 1ms. A duration such as 1.5s, 100ms or 1h30m.',
        pattern: DURATION_PATTERN,
        maxLength: 32,
        ...cel({ rule: "duration(self) >= duration('1ms')", message: 'backoff must be at least 1ms' }),
      }),
    ),
    retryIgnorePreviousHosts: Type.Optional(bool('Retry on other hosts than the ones that already failed; true by default in Istio.')),
  },
  { description: 'Describes the retry policy to use when an HTTP request fails.' },
);
export type HTTPRetry = Static<typeof HTTPRetry>;

export const GRPC_STATUS_CODES = [
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export const HTTPFaultInjection = Type.Object(
  {
    delay: Type.Optional(
      Type.Object(
        {
          fixedDelay: Type.Optional(duration('Add a fixed delay before forwarding the request.')),
          exponentialDelay: Type.Optional(duration('Add a delay with an exponential distribution (not supported yet, as in Istio).')),
          percentage: Type.Optional(Percent),
          percent: Type.Optional(int('Deprecated: use percentage. Percentage of requests to delay, 0-100.', 0, 100)),
        },
        {
          description: 'Delay requests before forwarding, emulating various failures such as network issues.',
          ...cel(
            { rule: exactlyOneOf('fixedDelay', 'exponentialDelay'), message: 'exactly one of fixedDelay or exponentialDelay must be set' },
            // Istio's validation: "exponentialDelay not supported yet".
            { rule: '!has(self.exponentialDelay)', message: 'exponentialDelay is not supported yet (as in Istio)', fieldPath: '.exponentialDelay' },
          ),
        },
      ),
    ),
    abort: Type.Optional(
      Type.Object(
        {
          httpStatus: Type.Optional(int('HTTP status code to return.', 200, 599)),
          grpcStatus: Type.Optional(strEnum([...GRPC_STATUS_CODES], 'gRPC status code to return, e.g. UNAVAILABLE.')),
          http2Error: Type.Optional(str('HTTP/2 error to abort the request with (not supported yet, as in Istio).', { maxLength: 64 })),
          percentage: Type.Optional(Percent),
        },
        {
          description: 'Abort requests and return an error status code.',
          ...cel(
            { rule: exactlyOneOf('httpStatus', 'grpcStatus', 'http2Error'), message: 'exactly one of httpStatus, grpcStatus or http2Error must be set' },
            // Istio's validation: "HTTP/2 abort fault injection not supported yet".
            { rule: '!has(self.http2Error)', message: 'HTTP/2 abort fault injection (http2Error) is not supported yet (as in Istio)', fieldPath: '.http2Error' },
          ),
        },
      ),
    ),
  },
  {
    description: 'HTTPFaultInjection can be used to specify one or more faults to inject while forwarding HTTP requests.',
    ...cel({ rule: 'has(self.delay) || has(self.abort)', message: 'fault must set delay, abort or both' }),
  },
);
export type HTTPFaultInjection = Static<typeof HTTPFaultInjection>;

export const HTTPMirrorPolicy = Type.Object(
  {
    destination: Destination,
    percentage: Type.Optional(Percent),
  },
  { description: 'HTTPMirrorPolicy describes a mirror policy: a copy of the traffic sent to another destination.' },
);
export type HTTPMirrorPolicy = Static<typeof HTTPMirrorPolicy>;

const headerNames = (description: string) =>
  list(str('A header name.', { maxLength: 256, pattern: HEADER_NAME_PATTERN }), description, MAX.mapEntries);

export const CorsPolicy = Type.Object(
  {
    allowOrigins: Type.Optional(list(StringMatch, 'String patterns that match allowed origins.', MAX.shortList)),
    allowOrigin: Type.Optional(list(str('An origin, or `*`.', { maxLength: MAX.host }), 'Deprecated: use allowOrigins. Exact origins allowed.', MAX.shortList)),
    allowMethods: Type.Optional(list(str('An HTTP method.', { maxLength: 32, pattern: '^[A-Z]+$|^\\*$' }), 'Allowed HTTP methods.', 16)),
    allowHeaders: Type.Optional(headerNames('Allowed request headers.')),
    exposeHeaders: Type.Optional(headerNames('Headers the browser may access.')),
    maxAge: Type.Optional(duration('How long the results of a preflight request can be cached.')),
    allowCredentials: Type.Optional(bool('Whether the caller may send the actual request with credentials.')),
    unmatchedPreflights: Type.Optional(
      strEnum(['UNSPECIFIED', 'FORWARD', 'IGNORE'], 'What to do with preflight requests whose origin does not match.'),
    ),
  },
  { description: 'Describes the Cross-Origin Resource Sharing (CORS) policy for a given service.' },
);
export type CorsPolicy = Static<typeof CorsPolicy>;

export const Delegate = Type.Object(
  {
    name: str('Name of the delegate VirtualService.', { minLength: 1, maxLength: MAX.host, pattern: DNS_SUBDOMAIN_PATTERN }),
    namespace: Type.Optional(str('Namespace of the delegate VirtualService; the root\'s by default.', { maxLength: MAX.name, pattern: DNS_LABEL_PATTERN })),
  },
  { description: 'The delegate VirtualService (one without hosts) whose http routes this route stands for.' },
);
export type Delegate = Static<typeof Delegate>;

export const HTTPRoute = Type.Object(
  {
    name: Type.Optional(str('The name assigned to the route, for debugging.', { maxLength: MAX.name })),
    match: Type.Optional(list(HTTPMatchRequest, 'Conditions to be satisfied for the rule to be activated; any one suffices (OR).', MAX.matches)),
    route: Type.Optional(list(HTTPRouteDestination, 'Where to send the traffic, with weights.', MAX.destinations, { minItems: 1 })),
    redirect: Type.Optional(HTTPRedirect),
    directResponse: Type.Optional(HTTPDirectResponse),
    rewrite: Type.Optional(HTTPRewrite),
    timeout: Type.Optional(duration('Timeout for HTTP requests; disabled by default.')),
    retries: Type.Optional(HTTPRetry),
    fault: Type.Optional(HTTPFaultInjection),
    mirror: Type.Optional(Destination),
    mirrors: Type.Optional(list(HTTPMirrorPolicy, 'Mirror HTTP traffic to these destinations in addition to the original one.', 16)),
    mirrorPercentage: Type.Optional(Percent),
    mirrorPercent: Type.Optional(int('Deprecated: use mirrorPercentage. Percentage of the traffic mirrored, 0-100.', 0, 100)),
    mirror_percent: Type.Optional(int('Deprecated: use mirrorPercentage (the proto spelling of mirrorPercent).', 0, 100)),
    corsPolicy: Type.Optional(CorsPolicy),
    headers: Type.Optional(Headers),
    delegate: Type.Optional(Delegate),
  },
  {
    description: 'Describes match conditions and actions for routing HTTP/1.1, HTTP2, and gRPC traffic.',
    ...cel(
      {
        rule: `has(self.delegate) || ${exactlyOneOf('route', 'redirect', 'directResponse')}`,
        message: 'exactly one of route, redirect or directResponse must be set (or delegate)',
      },
      {
        rule: `!has(self.delegate) || ${countOf('has(self.route)', 'has(self.redirect)', 'has(self.directResponse)')} == 0`,
        message: 'a route with delegate must not set route, redirect or directResponse: the delegate VirtualService routes',
        fieldPath: '.delegate',
      },
      weightsSumTo100('route'),
      { rule: '!(has(self.rewrite) && has(self.redirect))', message: 'rewrite cannot be combined with redirect', fieldPath: '.rewrite' },
      { rule: '!(has(self.mirror) && has(self.mirrors))', message: 'mirror and mirrors are mutually exclusive', fieldPath: '.mirrors' },
      {
        rule: '!has(self.mirrorPercentage) || has(self.mirror)',
        message: 'mirrorPercentage applies to mirror, which is not set (use mirrors[].percentage)',
        fieldPath: '.mirrorPercentage',
      },
      {
        // Istio: prefix_rewrite needs every URI match to be a prefix match.
        rule: "!has(self.redirect) || !has(self.redirect.prefixRewrite) || !has(self.match) || self.match.all(m, !has(m.uri) || has(m.uri.prefix))",
        message: 'redirect prefixRewrite requires all URI matches to use prefix match type',
        fieldPath: '.redirect.prefixRewrite',
      },
    ),
  },
);
export type HTTPRoute = Static<typeof HTTPRoute>;

export const RouteDestination = Type.Object(
  {
    destination: Destination,
    weight: Type.Optional(int('Share of the connections, 0-100. With one destination it gets all traffic.', 0, 100)),
  },
  { description: 'L4 routing rule weighted destination.' },
);
export type RouteDestination = Static<typeof RouteDestination>;

const l4MatchFields = {
  destinationSubnets: Type.Optional(subnets),
  port: Type.Optional(port('The port on the host being addressed.')),
  sourceLabels: Type.Optional(labels('Limits the rule to workloads with these labels.')),
  gateways: Type.Optional(gatewayNames),
  sourceNamespace: Type.Optional(str('Limits the rule to workloads in this namespace.', { maxLength: MAX.name })),
};

export const L4MatchAttributes = Type.Object(
  {
    ...l4MatchFields,
    sourceSubnet: Type.Optional(str('IPv4 or IPv6 source address (or CIDR) of the connection to match.', { maxLength: 64 })),
  },
  { description: 'L4 connection match attributes.' },
);
export type L4MatchAttributes = Static<typeof L4MatchAttributes>;

export const TLSMatchAttributes = Type.Object(
  { sniHosts: hosts('SNI (server name indicator) to match on; wildcards allowed.', { minItems: 1 }), ...l4MatchFields },
  { description: 'TLS connection match attributes.' },
);
export type TLSMatchAttributes = Static<typeof TLSMatchAttributes>;

const l4Routes = list(RouteDestination, 'The destinations to forward the connection to.', MAX.destinations, { minItems: 1 });

export const TCPRoute = Type.Object(
  {
    match: Type.Optional(list(L4MatchAttributes, 'Match conditions; any one suffices (OR).', MAX.matches)),
    route: l4Routes,
  },
  { description: 'Describes match conditions and actions for routing TCP traffic.', ...cel(weightsSumTo100('route')) },
);
export type TCPRoute = Static<typeof TCPRoute>;

export const TLSRoute = Type.Object(
  {
    match: list(TLSMatchAttributes, 'Match conditions; any one suffices (OR).', MAX.matches, { minItems: 1 }),
    route: l4Routes,
  },
  { description: 'Describes match conditions and actions for routing unterminated TLS traffic (TLS/HTTPS).', ...cel(weightsSumTo100('route')) },
);
export type TLSRoute = Static<typeof TLSRoute>;

/** CEL: the VirtualService has hosts (a root or a plain one), not a delegate. */
const ROOT = '(has(self.hosts) && size(self.hosts) > 0)';

export const VirtualServiceSpec = Type.Object(
  {
    hosts: Type.Optional(
      hosts(
        'The destination hosts to which traffic is being sent: DNS names with an optional wildcard prefix, or short names. ' +
          'Without hosts the VirtualService is a delegate, used only through the http routes that delegate to it.',
      ),
    ),
    gateways: Type.Optional(gatewayNames),
    http: Type.Optional(list(HTTPRoute, 'An ordered list of route rules for HTTP traffic; the first match wins.', MAX.routes)),
    tls: Type.Optional(list(TLSRoute, 'An ordered list of route rules for non-terminated TLS and HTTPS traffic.', MAX.routes)),
    tcp: Type.Optional(list(TCPRoute, 'An ordered list of route rules for opaque TCP traffic.', MAX.routes)),
    exportTo: Type.Optional(ExportTo),
  },
  {
    description: 'Configuration affecting traffic routing (Istio networking v1 VirtualService).',
    ...cel(
      { rule: `${countOf('has(self.http)', 'has(self.tls)', 'has(self.tcp)')} >= 1`, message: 'at least one of http, tls or tcp must be set' },
      { rule: `${ROOT} || !has(self.gateways) || size(self.gateways) == 0`, message: 'a delegate VirtualService (no hosts) must not set gateways', fieldPath: '.gateways' },
      { rule: `${ROOT} || !has(self.tls)`, message: 'a delegate VirtualService (no hosts) must not have tls routes', fieldPath: '.tls' },
      { rule: `${ROOT} || !has(self.tcp)`, message: 'a delegate VirtualService (no hosts) must not have tcp routes', fieldPath: '.tcp' },
      {
        rule: `${ROOT} || !has(self.http) || self.http.all(r, !has(r.delegate))`,
        message: 'the http routes of a delegate VirtualService (no hosts) cannot delegate: one level of delegation only',
        fieldPath: '.http',
      },
    ),
  },
);
export type VirtualServiceSpec = Static<typeof VirtualServiceSpec>;

export type VirtualService = MeshObject<'VirtualService', VirtualServiceSpec>;
