// VirtualService delegation, as Istio does it (pilot/pkg/model/virtualservice.go, mergeVirtualServicesIfNeeded): a
// root VirtualService (with hosts) hands an http route to a delegate VirtualService (without hosts, in any namespace
// that exports it to the root's). The delegate's routes replace that entry, each merged under the root route: the
// matches combine (a delegate match that conflicts with every root match drops that delegate route), and the root's
// settings fill what the delegate route leaves unset. One level only: a delegate's routes cannot delegate. Pure.
import { matchesAnyValue, type Destination, type HTTPMatchRequest, type HTTPRoute, type StringMatch, type VirtualService } from '../api/index.js';
import { qualifyHost } from './hosts.js';

/** A VirtualService without hosts: it only serves through the roots that delegate to it. */
export function isDelegate(vs: VirtualService): boolean {
  return !vs.spec.hosts || vs.spec.hosts.length === 0;
}

/** The delegates a root names, as `namespace/name` (a delegate without namespace is in the root's), with field paths. */
export function delegatesOf(vs: VirtualService): Array<{ field: string; ref: string }> {
  const ns = vs.metadata.namespace!;
  const out: Array<{ field: string; ref: string }> = [];
  vs.spec.http?.forEach((route, i) => {
    if (route.delegate) out.push({ field: `spec.http[${i}].delegate`, ref: `${route.delegate.namespace ?? ns}/${route.delegate.name}` });
  });
  return out;
}

/** Whether `vs` is visible in `namespace` by its exportTo (Istio: `*` or absent is everywhere, `.` its own, `~` none). */
export function exportedTo(vs: VirtualService, namespace: string): boolean {
  const exportTo = vs.spec.exportTo;
  if (!exportTo || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === namespace || (e === '.' && vs.metadata.namespace === namespace));
}

/** Why a delegate does not serve a root, or undefined when it does. */
export type DelegateProblem = { reason: 'DelegateNotFound' | 'DelegateNotAccepted' | 'DelegateNotExported' | 'NotADelegate'; message: string };

/** `delegate` in its served form (undefined: none); `exists` whether the object exists at all. */
export function delegateProblem(ref: string, delegate: VirtualService | undefined, rootNamespace: string, exists = delegate !== undefined): DelegateProblem | undefined {
  if (!exists) return { reason: 'DelegateNotFound', message: `delegate VirtualService ${ref} not found: the route has no routes until it exists` };
  if (!delegate) return { reason: 'DelegateNotAccepted', message: `delegate VirtualService ${ref} is not accepted (see its status): the route has no routes` };
  if (!isDelegate(delegate)) return { reason: 'NotADelegate', message: `VirtualService ${ref} has hosts, so it is not a delegate: the route has no routes` };
  if (!exportedTo(delegate, rootNamespace)) {
    return { reason: 'DelegateNotExported', message: `delegate VirtualService ${ref} is not exported to namespace ${rootNamespace} (its exportTo): the route has no routes` };
  }
  return undefined;
}

export interface ResolvedRoutes {
  /** The root's http routes with every delegating entry replaced by the delegate's merged routes. */
  http: HTTPRoute[];
  /** The delegates whose routes are in `http`. */
  delegates: VirtualService[];
}

/**
 * The root's http routes with delegation resolved. `find(namespace, name)` answers a delegate in its served form.
 * Delegate routes' destinations are qualified in the delegate's namespace (as Istio resolves short names before it
 * merges); the root's own routes are left as written.
 */
export function resolveDelegation(root: VirtualService, find: (namespace: string, name: string) => VirtualService | undefined): ResolvedRoutes {
  const ns = root.metadata.namespace!;
  const delegates = new Map<string, VirtualService>();
  const http: HTTPRoute[] = [];
  if (isDelegate(root)) return { http: [...(root.spec.http ?? [])], delegates: [] }; // one level only
  for (const route of root.spec.http ?? []) {
    if (!route.delegate) {
      http.push(route);
      continue;
    }
    const dns = route.delegate.namespace ?? ns;
    const delegate = find(dns, route.delegate.name);
    if (!delegate || delegateProblem(`${dns}/${route.delegate.name}`, delegate, ns)) continue;
    delegates.set(`${dns}/${route.delegate.name}`, delegate);
    const own = (delegate.spec.http ?? []).filter((r) => !r.delegate).map((r) => qualifiedIn(r, dns));
    http.push(...mergeHTTPRoutes(route, own));
  }
  return { http, delegates: [...delegates.values()] };
}

function qualifiedIn(route: HTTPRoute, ns: string): HTTPRoute {
  const q = (d: Destination): Destination => ({ ...d, host: qualifyHost(d.host, ns) });
  const out: HTTPRoute = { ...route };
  if (route.route) out.route = route.route.map((d) => ({ ...d, destination: q(d.destination) }));
  if (route.mirror) out.mirror = q(route.mirror);
  if (route.mirrors) out.mirrors = route.mirrors.map((m) => ({ ...m, destination: q(m.destination) }));
  return out;
}

/** The delegate's routes under `root`: as many as the delegate has, less those whose matches conflict with it. */
export function mergeHTTPRoutes(root: HTTPRoute, delegate: readonly HTTPRoute[]): HTTPRoute[] {
  return delegate.flatMap((r) => {
    const merged = mergeHTTPRoute(root, r);
    return merged ? [merged] : [];
  });
}

/** Istio's mergeHTTPRoute: undefined when the delegate route's matches conflict with the root's. */
export function mergeHTTPRoute(root: HTTPRoute, delegate: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatches(root.match, delegate.match);
  if (match === 'conflict') return undefined;
  const out: HTTPRoute = { ...delegate };
  if (match) out.match = match;
  else delete out.match;
  const name = delegate.name === undefined ? root.name : root.name !== undefined ? `${root.name}-${delegate.name}` : delegate.name;
  if (name !== undefined) out.name = name;
  for (const key of ['rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage', 'corsPolicy', 'headers'] as const) {
    if (out[key] === undefined && root[key] !== undefined) (out as Record<string, unknown>)[key] = root[key];
  }
  return out;
}

/** Istio's mergeHTTPMatchRequests: each delegate match must fit under some root match, or the route conflicts. */
function mergeMatches(root: HTTPMatchRequest[] | undefined, delegate: HTTPMatchRequest[] | undefined): HTTPMatchRequest[] | undefined | 'conflict' {
  if (!root || root.length === 0) return delegate;
  if (!delegate || delegate.length === 0) return root;
  const out: HTTPMatchRequest[] = [];
  for (const sub of delegate) {
    const fits = root.filter((r) => !hasConflict(r, sub));
    if (fits.length === 0) return 'conflict';
    for (const r of fits) out.push(mergeMatch(r, sub));
  }
  return out.length > 0 ? out : 'conflict';
}

function mergeMatch(root: HTTPMatchRequest, delegate: HTTPMatchRequest): HTTPMatchRequest {
  const out: HTTPMatchRequest = { ...delegate };
  const name = delegate.name === undefined ? root.name : root.name !== undefined ? `${root.name}-${delegate.name}` : delegate.name;
  if (name !== undefined) out.name = name;
  for (const key of ['uri', 'scheme', 'method', 'authority', 'port'] as const) {
    if (out[key] === undefined && root[key] !== undefined) (out as Record<string, unknown>)[key] = root[key];
  }
  for (const key of ['headers', 'withoutHeaders', 'queryParams'] as const) {
    if (root[key] || delegate[key]) out[key] = { ...root[key], ...delegate[key] };
  }
  // sourceLabels, sourceNamespace and gateways are the delegate match's own (Istio: they only apply to sidecars).
  return out;
}

function hasConflict(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  for (const key of ['uri', 'scheme', 'method', 'authority'] as const) if (stringMatchConflict(root[key], leaf[key])) return true;
  for (const [k, v] of Object.entries(leaf.headers ?? {})) if (stringMatchConflict(root.headers?.[k], v)) return true;
  for (const [k, v] of Object.entries(leaf.withoutHeaders ?? {})) if (stringMatchConflict(root.headers?.[k], v)) return true;
  for (const [k, v] of Object.entries(leaf.queryParams ?? {})) if (stringMatchConflict(root.queryParams?.[k], v)) return true;
  if ((root.ignoreUriCase ?? false) !== (leaf.ignoreUriCase ?? false)) return true;
  return root.port !== undefined && leaf.port !== undefined && root.port !== leaf.port;
}

/**
 * Istio's stringMatchConflict: the leaf must be a narrowing of the root; regexes always conflict. A root that
 * constrains no value ({}) is narrowed by any leaf; an empty leaf under a constraining root widens it.
 */
function stringMatchConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (!root || !leaf || matchesAnyValue(root, true)) return false;
  if (matchesAnyValue(leaf, true)) return true;
  if (root.regex !== undefined || leaf.regex !== undefined) return true;
  if (root.exact !== undefined) return leaf.prefix !== undefined || leaf.exact !== root.exact;
  if (root.prefix !== undefined) {
    if (leaf.prefix !== undefined) return !leaf.prefix.startsWith(root.prefix);
    if (leaf.exact !== undefined) return !leaf.exact.startsWith(root.prefix);
  }
  return true;
}

/** The condition a root reports on its delegates: ResolvedRefs, True when every one serves it. */
export interface DelegationCondition {
  type: 'ResolvedRefs';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/**
 * ResolvedRefs of a root (undefined for a VirtualService that delegates nothing). `find` answers a delegate: whether
 * it exists, and its served form.
 */
export function delegationCondition(root: VirtualService, find: (namespace: string, name: string) => { exists: boolean; served?: VirtualService }): DelegationCondition | undefined {
  const refs = delegatesOf(root);
  if (refs.length === 0) return undefined;
  const problems = refs.flatMap(({ field, ref }) => {
    const [ns, name] = ref.split('/') as [string, string];
    const { exists, served } = find(ns, name);
    const p = delegateProblem(ref, served, root.metadata.namespace!, exists);
    return p ? [{ ...p, message: `${field}: ${p.message}` }] : [];
  });
  if (problems.length > 0) return { type: 'ResolvedRefs', status: 'False', reason: problems[0]!.reason, message: problems.map((p) => p.message).join('; ') };
  return { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: `routes delegated to ${[...new Set(refs.map((r) => r.ref))].join(', ')}` };
}

/** The roots (`namespace/name`, with the field) that delegate to `delegate` and see it (its exportTo). */
export function rootsOf(delegate: VirtualService, all: readonly VirtualService[]): string[] {
  const self = `${delegate.metadata.namespace}/${delegate.metadata.name}`;
  return all.flatMap((vs) =>
    isDelegate(vs) || !exportedTo(delegate, vs.metadata.namespace!)
      ? []
      : delegatesOf(vs)
          .filter((d) => d.ref === self)
          .map((d) => `VirtualService ${vs.metadata.namespace}/${vs.metadata.name} (${d.field})`),
  );
}
