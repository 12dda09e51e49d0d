// What the proxies would reject in a VirtualService, checked before it reaches them where the API server's schema
// cannot (CEL's cost estimate rules out regex checks on map keys, and it has no RE2 compiler):
// - regular expressions: Envoy and gRPC compile RE2, which refuses what JavaScript's RegExp accepts (lookaround,
//   backreferences) and accepts what RegExp refuses; re2js, a port of RE2's parser, compiles every pattern;
// - header names used as map keys (matches, header operations): Istio's rules (RFC 7230 token characters; matches
//   may name a pseudo-header; operations may not touch Host or a pseudo-header, except a request's Host or
//   :authority, which rewrites the authority).
import { RE2JS } from 're2js';
import { HEADER_NAME_PATTERN, matchesAnyValue, PSEUDO_HEADERS, type Headers, type StringMatch, type VirtualService } from '../api/index.js';
import type { Problem } from './verdict.js';

const HEADER_NAME = new RegExp(HEADER_NAME_PATTERN);

/** Why RE2 refuses `pattern`, or undefined when it compiles. */
export function re2Error(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Every regex a VirtualService carries, with the field path it is written at. */
export function regexesOf(vs: VirtualService): Array<{ field: string; pattern: string }> {
  const out: Array<{ field: string; pattern: string }> = [];
  const match = (field: string, m: StringMatch | undefined, named = false) => {
    if (m?.regex !== undefined && !matchesAnyValue(m, named)) out.push({ field: `${field}.regex`, pattern: m.regex });
  };
  // Header and query parameter maps: Istio reads the regex `*` there as a presence match, not as RE2.
  const matchMap = (field: string, map: Record<string, StringMatch> | undefined) => {
    for (const [key, m] of Object.entries(map ?? {})) match(`${field}[${key}]`, m, true);
  };
  vs.spec.http?.forEach((route, i) => {
    route.match?.forEach((m, j) => {
      const at = `spec.http[${i}].match[${j}]`;
      match(`${at}.uri`, m.uri);
      match(`${at}.scheme`, m.scheme);
      match(`${at}.method`, m.method);
      match(`${at}.authority`, m.authority);
      matchMap(`${at}.headers`, m.headers);
      matchMap(`${at}.queryParams`, m.queryParams);
      matchMap(`${at}.withoutHeaders`, m.withoutHeaders);
    });
    const rewrite = route.rewrite?.uriRegexRewrite;
    if (rewrite) out.push({ field: `spec.http[${i}].rewrite.uriRegexRewrite.match`, pattern: rewrite.match });
    route.corsPolicy?.allowOrigins?.forEach((o, k) => match(`spec.http[${i}].corsPolicy.allowOrigins[${k}]`, o));
  });
  return out;
}

/** How a header name is used: matched on, set or added (on the request or the response), or removed. */
export type HeaderUse = 'match' | 'request' | 'response' | 'remove';

/** Every header name a VirtualService uses as a map key or removes, with the field it is written at. */
export function headerKeysOf(vs: VirtualService): Array<{ field: string; name: string; use: HeaderUse }> {
  const out: Array<{ field: string; name: string; use: HeaderUse }> = [];
  const keys = (field: string, map: Record<string, unknown> | undefined, use: HeaderUse) => {
    for (const name of Object.keys(map ?? {})) out.push({ field: `${field}[${name}]`, name, use });
  };
  const operations = (field: string, headers: Headers | undefined) => {
    for (const side of ['request', 'response'] as const) {
      keys(`${field}.${side}.set`, headers?.[side]?.set, side);
      keys(`${field}.${side}.add`, headers?.[side]?.add, side);
      headers?.[side]?.remove?.forEach((name, k) => out.push({ field: `${field}.${side}.remove[${k}]`, name, use: 'remove' }));
    }
  };
  vs.spec.http?.forEach((route, i) => {
    route.match?.forEach((m, j) => {
      keys(`spec.http[${i}].match[${j}].headers`, m.headers, 'match');
      keys(`spec.http[${i}].match[${j}].withoutHeaders`, m.withoutHeaders, 'match');
    });
    operations(`spec.http[${i}].headers`, route.headers);
    route.route?.forEach((d, j) => operations(`spec.http[${i}].route[${j}].headers`, d.headers));
  });
  return out;
}

/** Whether a request's header operation on `name` rewrites the authority (Istio: Host or :authority). */
export function isAuthorityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === ':authority' || lower === 'host';
}

/** Why Istio refuses `name` for `use`, or undefined. */
function headerNameProblem(name: string, use: HeaderUse): string | undefined {
  const quoted = JSON.stringify(name);
  if (name.startsWith('@request.auth.claims')) {
    return `${quoted}: routing on JWT claims needs Istio's RequestAuthentication, which Weft does not have; match a header the client sends instead`;
  }
  if (use === 'match' && PSEUDO_HEADERS.includes(name.toLowerCase())) return undefined;
  if (use === 'request' && isAuthorityHeader(name)) return undefined;
  if (name.startsWith(':') || (use !== 'match' && name.toLowerCase() === 'host')) {
    return use === 'match'
      ? `${quoted} is not a pseudo-header a route can match (${PSEUDO_HEADERS.join(', ')})`
      : `${quoted} cannot be ${use === 'remove' ? 'removed' : 'set'}: Host and pseudo-headers are the proxy's (a request's Host or :authority set or added rewrites the authority)`;
  }
  return HEADER_NAME.test(name) ? undefined : `${quoted} is not a valid header name: use RFC 7230 token characters (as Istio requires)`;
}

/** Problems for each regex RE2 refuses and each header name a proxy would refuse. */
export function proxyRuleProblems(vs: VirtualService): Problem[] {
  const regexes = regexesOf(vs).flatMap(({ field, pattern }) => {
    const error = re2Error(pattern);
    return error ? [{ reason: 'InvalidRegex', field, message: `${JSON.stringify(pattern)} is not a valid RE2 regular expression (${error}); Envoy and gRPC would reject it` }] : [];
  });
  const headers = headerKeysOf(vs).flatMap(({ field, name, use }) => {
    const message = headerNameProblem(name, use);
    return message ? [{ reason: 'InvalidHeaderName', field, message }] : [];
  });
  return [...regexes, ...headers];
}
