// Regular expressions as the proxies read them: Envoy and gRPC compile RE2, which refuses what JavaScript's RegExp
// accepts (lookaround, backreferences) and accepts what RegExp refuses. Validation compiles every pattern with
// re2js (a port of RE2's parser and matcher), so a pattern a proxy would reject never reaches it.
import { RE2JS } from 're2js';
import type { StringMatch, VirtualService } from '../api/index.js';
import type { Problem } from './verdict.js';

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
  const match = (field: string, m: StringMatch | undefined) => {
    if (m?.regex !== undefined) out.push({ field: `${field}.regex`, pattern: m.regex });
  };
  const matchMap = (field: string, map: Record<string, StringMatch> | undefined) => {
    for (const [key, m] of Object.entries(map ?? {})) match(`${field}[${key}]`, m);
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

/** A problem for each regex of the VirtualService that RE2 refuses. */
export function regexProblems(vs: VirtualService): Problem[] {
  return regexesOf(vs).flatMap(({ field, pattern }) => {
    const error = re2Error(pattern);
    return error ? [{ reason: 'InvalidRegex', field, message: `${JSON.stringify(pattern)} is not a valid RE2 regular expression (${error}); Envoy and gRPC would reject it` }] : [];
  });
}
