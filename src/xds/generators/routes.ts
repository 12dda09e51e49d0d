// RDS: a VirtualService's http routes as Envoy routes for one port of a service: matches (path, headers, method,
// query), weighted splits across subset clusters, timeouts, retries, fault injection, mirroring, rewrites and
// consistent-hash keys. Without a VirtualService, one route sends everything to the service's cluster.
//
// gRPC understands a subset (gRFC A28/A31/A33/A44/A42). The proxyless flavor emits only what gRPC applies: a match
// gRPC cannot evaluate (query parameters, :scheme, :authority) or an action it lacks (redirect, direct response)
// would make the client reject the whole route configuration, so such a route is left out; a method match is
// always POST for gRPC, so it is kept as "always" or the route is left out as "never".
import { matchesAnyValue, type CorsPolicy, type Destination, type HeaderOperations, type Headers, type HTTPFaultInjection, type HTTPMatchRequest, type HTTPRetry, type HTTPRoute, type StringMatch } from '../../api/index.js';
import { isAuthorityHeader } from '../../mesh/proxy-rules.js';
import type { MeshModel, MeshRef, ServiceModel, ServicePortModel } from '../../mesh/model/index.js';
import { ExtensionType } from '../protos.js';
import type { ProtoMessage, ProtoValue } from '../resource.js';
import { duration, durationMs, durationSeconds, protoDuration } from './duration.js';
import { outboundCluster } from './names.js';
import { effectivePolicy } from './policy.js';
import type { Flavor } from './types.js';

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const CORS_FILTER = 'envoy.filters.http.cors';

export interface RouteContext {
  flavor: Flavor;
  model: MeshModel;
  service: ServiceModel;
  /** The service port whose traffic the routes carry. */
  port: ServicePortModel;
}

export interface GeneratedRoutes {
  routes: ProtoMessage[];
  /** Objects the routes depend on besides the service's own: DestinationRules whose hash keys they carry. */
  sources: MeshRef[];
}

export function httpRoutes(ctx: RouteContext): GeneratedRoutes {
  const sources: MeshRef[] = [];
  const routing = ctx.service.routing;
  if (!routing) {
    const target: Destination = { host: ctx.service.host, port: { number: ctx.port.number } };
    const action = routeAction([{ destination: target }], undefined, ctx, sources);
    return { routes: [{ name: 'default', match: { prefix: '/' }, route: action }], sources };
  }
  const routes: ProtoMessage[] = [];
  routing.http.forEach((route, i) => {
    const name = route.name ?? `route-${i}`;
    const matches: Array<HTTPMatchRequest | undefined> = route.match?.length ? route.match : [undefined];
    matches.forEach((m, j) => {
      if (m?.port !== undefined && m.port !== ctx.port.number) return; // the match is for another port
      const match = routeMatch(m, ctx.flavor);
      if (!match) return;
      const action = routeBody(route, ctx, sources);
      if (!action) return;
      routes.push({ name: matches.length > 1 ? `${name}.${m?.name ?? j}` : name, match, ...action });
    });
  });
  return { routes, sources };
}

/** The part of a route after its match: route / redirect / direct_response, plus per-route filter config. */
function routeBody(route: HTTPRoute, ctx: RouteContext, sources: MeshRef[]): ProtoMessage | undefined {
  const body: ProtoMessage = {};
  let action: ProtoMessage | undefined;
  const perFilter: ProtoMessage = {};
  if (route.fault) perFilter[FAULT_FILTER] = faultConfig(route.fault);
  if (route.corsPolicy && ctx.flavor === 'envoy') perFilter[CORS_FILTER] = corsPolicy(route.corsPolicy);
  if (Object.keys(perFilter).length > 0) body.typed_per_filter_config = perFilter;
  if (route.redirect) {
    if (ctx.flavor === 'proxyless') return undefined;
    body.redirect = redirect(route.redirect, ctx.port.number);
  } else if (route.directResponse) {
    if (ctx.flavor === 'proxyless') return undefined;
    const d = route.directResponse;
    body.direct_response = { status: d.status, ...(d.body ? { body: d.body.string !== undefined ? { inline_string: d.body.string } : { inline_bytes: d.body.bytes ?? '' } } : {}) };
  } else {
    action = routeAction(route.route ?? [], route, ctx, sources);
    body.route = action;
  }
  if (ctx.flavor === 'envoy') {
    const { fields, authority } = headerOperations(route.headers);
    Object.assign(body, fields);
    // A rewrite.authority wins over the headers' authority (as Istio).
    if (action && authority !== undefined && action.host_rewrite_literal === undefined) action.host_rewrite_literal = authority;
    const only = route.route?.length === 1 ? route.route[0]!.headers : undefined;
    if (action && only) appendDestinationHeaders(body, action, only);
  }
  return body;
}

// ---------------------------------------------------------------------------------------------------------------
// Matches.

function stringMatcher(m: StringMatch, ignoreCase = false): ProtoMessage {
  const matcher: ProtoMessage = m.exact !== undefined ? { exact: m.exact } : m.prefix !== undefined ? { prefix: m.prefix } : { safe_regex: { regex: m.regex ?? '' } };
  if (ignoreCase && m.regex === undefined) matcher.ignore_case = true;
  return matcher;
}

/** A named value's matcher (header, query parameter): an empty match (or regex `*`) is Istio's presence match. */
function valueMatcher(m: StringMatch): ProtoMessage {
  return matchesAnyValue(m, true) ? { present_match: true } : { string_match: stringMatcher(m) };
}

/**
 * A header matcher; inverted, a presence match says the header is absent, and a value match also holds when the
 * header is missing (as Istio's withoutHeaders: Envoy otherwise fails an inverted match on a missing header).
 */
function headerMatcher(name: string, m: StringMatch, invert = false): ProtoMessage {
  const matcher: ProtoMessage = { name: name.toLowerCase(), ...valueMatcher(m) };
  if (invert) {
    matcher.invert_match = true;
    if (matcher.present_match === undefined) matcher.treat_missing_header_as_empty = true;
  }
  return matcher;
}

/** Whether a StringMatch accepts `value` (for the method match of gRPC, always POST). */
function accepts(m: StringMatch, value: string): boolean {
  if (matchesAnyValue(m)) return true;
  if (m.exact !== undefined) return m.exact === value;
  if (m.prefix !== undefined) return value.startsWith(m.prefix);
  return new RegExp(`^(?:${m.regex ?? ''})$`).test(value);
}

/** A match's headers and withoutHeaders (inverted), in that order. */
function namedMatches(m: HTTPMatchRequest | undefined): Array<[string, StringMatch, boolean]> {
  return [
    ...Object.entries(m?.headers ?? {}).map(([name, value]): [string, StringMatch, boolean] => [name, value, false]),
    ...Object.entries(m?.withoutHeaders ?? {}).map(([name, value]): [string, StringMatch, boolean] => [name, value, true]),
  ];
}

/**
 * gRPC shows no pseudo-header to route matching. What every gRPC call is known to carry decides a match on one:
 * each of them is present, and `:method` is POST. A match on another value (`:path`, `:authority`) cannot be
 * told, so the route is left out, as for the authority and scheme fields.
 */
function grpcPseudoHeaderHolds(name: string, m: StringMatch, invert: boolean): boolean {
  if (matchesAnyValue(m, true)) return !invert;
  if (name.toLowerCase() === ':method') return accepts(m, 'POST') !== invert;
  return false;
}

/** The Envoy RouteMatch, or undefined when the proxy could never match it (so the route is left out). */
function routeMatch(m: HTTPMatchRequest | undefined, flavor: Flavor): ProtoMessage | undefined {
  const match: ProtoMessage = {};
  const uri = m?.uri;
  if (uri?.exact !== undefined) match.path = uri.exact;
  else if (uri?.prefix !== undefined) match.prefix = uri.prefix;
  else if (uri?.regex !== undefined) match.safe_regex = { regex: uri.regex };
  else match.prefix = '/';
  if (m?.ignoreUriCase && uri?.regex === undefined) match.case_sensitive = { value: false };
  const headers: ProtoMessage[] = [];
  for (const [name, value, invert] of namedMatches(m)) {
    if (flavor === 'proxyless' && name.startsWith(':')) {
      if (!grpcPseudoHeaderHolds(name, value, invert)) return undefined;
      continue; // holds for every call: no constraint
    }
    headers.push(headerMatcher(name, value, invert));
    // gRPC holds an inverted value match on a missing header, where Istio (Envoy with treat_missing_header_as_empty)
    // reads the header as empty: when the value match takes "", the header must be there for the route to match.
    if (flavor === 'proxyless' && invert && !matchesAnyValue(value, true) && accepts(value, '')) headers.push({ name: name.toLowerCase(), present_match: true });
  }
  // An empty method, scheme or authority match constrains nothing (every request has them).
  const method = m?.method && !matchesAnyValue(m.method) ? m.method : undefined;
  const scheme = m?.scheme && !matchesAnyValue(m.scheme) ? m.scheme : undefined;
  const authority = m?.authority && !matchesAnyValue(m.authority) ? m.authority : undefined;
  if (flavor === 'proxyless') {
    if (method && !accepts(method, 'POST')) return undefined;
    if (scheme || authority || (m?.queryParams && Object.keys(m.queryParams).length > 0)) return undefined;
  } else {
    if (method) headers.push(headerMatcher(':method', method));
    if (scheme) headers.push(headerMatcher(':scheme', scheme));
    if (authority) headers.push(headerMatcher(':authority', authority));
    const query = Object.entries(m?.queryParams ?? {}).map(([name, value]) => ({ name, ...valueMatcher(value) }));
    if (query.length > 0) match.query_parameters = query;
  }
  if (headers.length > 0) match.headers = headers;
  return match;
}

// ---------------------------------------------------------------------------------------------------------------
// Actions.

/** The cluster a destination names: its port, or the service's only port, or the port the traffic came in on. */
export function destinationCluster(d: Destination, ctx: RouteContext): string {
  let port = d.port?.number;
  if (port === undefined) {
    const target = ctx.model.service(d.host);
    port = target && target.ports.length === 1 ? target.ports[0]!.number : ctx.port.number;
  }
  return outboundCluster(d.host, port, d.subset ?? '');
}

/** Istio weights: as written; with several destinations and none weighted, an even split. */
function weights(destinations: ReadonlyArray<{ weight?: number }>): number[] {
  if (destinations.every((d) => d.weight === undefined)) {
    const share = Math.floor(100 / destinations.length);
    return destinations.map((_, i) => (i === 0 ? 100 - share * (destinations.length - 1) : share));
  }
  return destinations.map((d) => d.weight ?? 0);
}

function routeAction(destinations: ReadonlyArray<{ destination: Destination; weight?: number; headers?: Headers }>, route: HTTPRoute | undefined, ctx: RouteContext, sources: MeshRef[]): ProtoMessage {
  const action: ProtoMessage = {};
  if (destinations.length === 1) {
    action.cluster = destinationCluster(destinations[0]!.destination, ctx);
  } else {
    // Destinations naming the same cluster (with the same header operations) share one weighted cluster.
    const merged = new Map<string, ProtoMessage & { weight: { value: number } }>();
    const w = weights(destinations);
    destinations.forEach((d, i) => {
      const name = destinationCluster(d.destination, ctx);
      const cluster: ProtoMessage = { name };
      if (ctx.flavor === 'envoy' && d.headers) {
        const { fields, authority } = headerOperations(d.headers);
        Object.assign(cluster, fields);
        if (authority !== undefined) cluster.host_rewrite_literal = authority;
      }
      const key = JSON.stringify(cluster);
      const same = merged.get(key);
      if (same) same.weight.value += w[i]!;
      else merged.set(key, { ...cluster, weight: { value: w[i]! } });
    });
    action.weighted_clusters = { clusters: [...merged.values()] };
  }
  const timeout = duration(route?.timeout);
  if (ctx.flavor === 'envoy') action.timeout = timeout ?? { seconds: 0 }; // Istio: no timeout unless asked (Envoy's default is 15 s)
  else if (timeout) action.max_stream_duration = { max_stream_duration: timeout };
  const retry = route?.retries ? retryPolicy(route.retries, ctx.flavor) : undefined;
  if (retry) action.retry_policy = retry;
  const hash = hashPolicy(destinations[0]?.destination, ctx, sources);
  if (hash) action.hash_policy = [hash];
  if (route && ctx.flavor === 'envoy') {
    const mirrors = mirrorPolicies(route, ctx);
    if (mirrors.length > 0) action.request_mirror_policies = mirrors;
    if (route.rewrite?.uri !== undefined) action.prefix_rewrite = route.rewrite.uri;
    if (route.rewrite?.uriRegexRewrite) action.regex_rewrite = { pattern: { regex: route.rewrite.uriRegexRewrite.match }, substitution: route.rewrite.uriRegexRewrite.rewrite };
    if (route.rewrite?.authority !== undefined) action.host_rewrite_literal = route.rewrite.authority;
  }
  return action;
}

/** gRPC retries on status codes; Istio's default conditions, read as codes, are unavailable and cancelled. */
const GRPC_RETRY_CODES = new Set(['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);
const ISTIO_DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

function retryPolicy(retries: HTTPRetry, flavor: Flavor): ProtoMessage | undefined {
  const attempts = retries.attempts ?? 2;
  if (attempts === 0) return undefined; // Istio: 0 disables retries
  let retryOn = retries.retryOn ?? ISTIO_DEFAULT_RETRY_ON;
  if (flavor === 'proxyless') {
    retryOn = retryOn.split(',').filter((c) => GRPC_RETRY_CODES.has(c)).join(',');
    if (retryOn === '') return undefined; // nothing gRPC can retry on
  }
  const policy: ProtoMessage = { retry_on: retryOn, num_retries: { value: attempts } };
  if (retries.perTryTimeout && flavor === 'envoy') policy.per_try_timeout = duration(retries.perTryTimeout);
  if (retries.backoff) policy.retry_back_off = retryBackOff(durationMs(retries.backoff));
  return policy;
}

/**
 * Istio's `backoff` is the base interval; the cap is 10 times it, the default of Envoy and of gRPC (gRFC A44),
 * written out so every client reads the same. Both apply jitter: Envoy a random wait up to the interval, gRPC ±20%.
 */
function retryBackOff(baseMs: number): ProtoMessage {
  return { base_interval: protoDuration(baseMs), max_interval: protoDuration(10 * baseMs) };
}

/** gRPC status names as numbers (HTTPFault.abort.grpc_status). */
const GRPC_CODES: Record<string, number> = {
  CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
  DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

/** Istio's Percent (0-100, fractional) as a FractionalPercent per million; absent means always. */
function fraction(percent: { value: number } | undefined): ProtoMessage {
  return { numerator: Math.round((percent?.value ?? 100) * 10_000), denominator: 'MILLION' };
}

function faultConfig(fault: HTTPFaultInjection): ProtoMessage {
  const config: ProtoMessage = { '@type': ExtensionType.fault };
  if (fault.delay) {
    // Istio's deprecated integer `percent` means the same as `percentage` when that is not set.
    const percentage = fault.delay.percentage ?? (fault.delay.percent !== undefined ? { value: fault.delay.percent } : undefined);
    config.delay = { fixed_delay: duration(fault.delay.fixedDelay), percentage: fraction(percentage) };
  }
  if (fault.abort) {
    const code = fault.abort.grpcStatus !== undefined ? { grpc_status: GRPC_CODES[fault.abort.grpcStatus]! } : { http_status: fault.abort.httpStatus ?? 503 };
    config.abort = { ...code, percentage: fraction(fault.abort.percentage) };
  }
  return config;
}

/** The hash key of a consistent-hash DestinationRule for the (first) destination. */
function hashPolicy(d: Destination | undefined, ctx: RouteContext, sources: MeshRef[]): ProtoMessage | undefined {
  if (!d) return undefined;
  const target = ctx.model.service(d.host);
  if (!target?.policy) return undefined;
  const port = d.port?.number ?? (target.ports.length === 1 ? target.ports[0]!.number : ctx.port.number);
  const hash = effectivePolicy(target, port, d.subset).loadBalancer?.consistentHash;
  if (!hash) return undefined;
  sources.push(target.policy.source);
  if (hash.httpHeaderName) return { header: { header_name: hash.httpHeaderName.toLowerCase() } };
  if (ctx.flavor === 'proxyless') {
    // gRPC hashes headers, or the channel: a source-IP hash (one client, one backend) is the channel's.
    return hash.useSourceIp ? { filter_state: { key: 'io.grpc.channel_id' } } : undefined;
  }
  if (hash.useSourceIp) return { connection_properties: { source_ip: true } };
  if (hash.httpQueryParameterName) return { query_parameter: { name: hash.httpQueryParameterName } };
  if (hash.httpCookie) {
    const cookie: ProtoMessage = { name: hash.httpCookie.name };
    if (hash.httpCookie.path) cookie.path = hash.httpCookie.path;
    if (hash.httpCookie.ttl) cookie.ttl = duration(hash.httpCookie.ttl);
    return { cookie };
  }
  return undefined;
}

function mirrorPolicies(route: HTTPRoute, ctx: RouteContext): ProtoMessage[] {
  const mirrors = route.mirror ? [{ destination: route.mirror, percentage: mirrorPercentage(route) }] : (route.mirrors ?? []);
  return mirrors.map((m) => ({ cluster: destinationCluster(m.destination, ctx), runtime_fraction: { default_value: fraction(m.percentage) } }));
}

/** mirrorPercentage, or Istio's deprecated integer mirrorPercent (also spelled mirror_percent) meaning the same. */
function mirrorPercentage(route: HTTPRoute): { value: number } | undefined {
  const deprecated = route.mirrorPercent ?? route.mirror_percent;
  return route.mirrorPercentage ?? (deprecated !== undefined ? { value: deprecated } : undefined);
}

/**
 * Istio's CORS policy for the route (TranslateCORSPolicy): origins as string matchers (the deprecated allowOrigin
 * as exact ones), lists joined with commas, maxAge in seconds, preflights whose origin does not match forwarded
 * unless unmatchedPreflights is IGNORE.
 */
function corsPolicy(c: CorsPolicy): ProtoMessage {
  const out: ProtoMessage = {
    '@type': ExtensionType.corsPolicy,
    forward_not_matching_preflights: { value: c.unmatchedPreflights !== 'IGNORE' },
    filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
  };
  if (c.allowOrigins) {
    // Istio drops an empty match; a prefix "" takes every origin (Envoy refuses an empty prefix: a regex says it).
    const origins = c.allowOrigins.filter((m) => m.exact !== undefined || m.prefix !== undefined || m.regex !== undefined);
    out.allow_origin_string_match = origins.map((m) => (m.prefix === '' ? { safe_regex: { regex: '.*' } } : stringMatcher(m)));
  }
  else if (c.allowOrigin) out.allow_origin_string_match = c.allowOrigin.map((exact) => ({ exact }));
  if (c.allowCredentials !== undefined) out.allow_credentials = { value: c.allowCredentials };
  if (c.allowHeaders?.length) out.allow_headers = c.allowHeaders.join(',');
  if (c.allowMethods?.length) out.allow_methods = c.allowMethods.join(',');
  if (c.exposeHeaders?.length) out.expose_headers = c.exposeHeaders.join(',');
  if (c.maxAge !== undefined) out.max_age = String(durationSeconds(c.maxAge));
  return out;
}

const REDIRECT_CODES: Record<number, string> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };

/**
 * derivePort FROM_REQUEST_PORT: Envoy cannot read the request's port, but routes are made per port, so it is
 * that port (as Istio does); FROM_PROTOCOL_DEFAULT leaves the port to the scheme's default.
 */
function redirect(r: NonNullable<HTTPRoute['redirect']>, requestPort: number): ProtoMessage {
  const out: ProtoMessage = { response_code: REDIRECT_CODES[r.redirectCode ?? 301] ?? 'MOVED_PERMANENTLY' };
  if (r.uri !== undefined) out.path_redirect = r.uri;
  if (r.prefixRewrite !== undefined) out.prefix_rewrite = r.prefixRewrite;
  if (r.authority !== undefined) out.host_redirect = r.authority;
  if (r.port !== undefined) out.port_redirect = r.port;
  if (r.derivePort === 'FROM_REQUEST_PORT') out.port_redirect = requestPort;
  if (r.scheme !== undefined) out.scheme_redirect = r.scheme;
  return out;
}

/** A single destination's header operations go after the route's (as Istio); its authority only if none is set. */
function appendDestinationHeaders(body: ProtoMessage, action: ProtoMessage, headers: Headers): void {
  const { fields, authority } = headerOperations(headers);
  for (const [key, value] of Object.entries(fields)) body[key] = [...((body[key] as ProtoValue[] | undefined) ?? []), ...(value as ProtoValue[])];
  if (authority !== undefined && action.host_rewrite_literal === undefined) action.host_rewrite_literal = authority;
}

/**
 * Header operations as Envoy fields (`request_headers_to_add`, ...), and the authority a request's Host or
 * :authority set (else added) asks for: Istio makes that a host rewrite, as Envoy will not touch those headers.
 */
function headerOperations(headers: Headers | undefined): { fields: ProtoMessage; authority?: string } {
  const fields: ProtoMessage = {};
  const toAdd = (ops: HeaderOperations | undefined) => [
    ...Object.entries(ops?.set ?? {}).map(([key, value]) => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
    ...Object.entries(ops?.add ?? {}).map(([key, value]) => ({ header: { key, value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' })),
  ];
  const notAuthority = (op: { header: { key: string } }) => !isAuthorityHeader(op.header.key);
  const req = toAdd(headers?.request).filter(notAuthority);
  const res = toAdd(headers?.response);
  if (req.length > 0) fields.request_headers_to_add = req;
  if (res.length > 0) fields.response_headers_to_add = res;
  if (headers?.request?.remove?.length) fields.request_headers_to_remove = headers.request.remove;
  if (headers?.response?.remove?.length) fields.response_headers_to_remove = headers.response.remove;
  const authorityOf = (map: Record<string, string> | undefined) => Object.entries(map ?? {}).find(([key]) => isAuthorityHeader(key))?.[1];
  const authority = authorityOf(headers?.request?.set) ?? authorityOf(headers?.request?.add);
  return authority === undefined ? { fields } : { fields, authority };
}
