// MeshPolicy `authorization` as Envoy RBAC HTTP filters (envoy.extensions.filters.http.rbac.v3.RBAC), which
// grpc-js-xds enforces on servers when GRPC_XDS_EXPERIMENTAL_RBAC=true (gRFC A41). Istio's AuthorizationPolicy
// semantics: DENY policies first, then, if any ALLOW policy applies, a request must match one of its rules.
//
//   from.principals  cluster.local/ns/a/sa/frontend   -> authenticated principal spiffe://cluster.local/ns/a/sa/frontend
//   from.namespaces  a                                -> authenticated principal matching .*/ns/a/.*
//   to.paths         /pkg.Svc/Method, /pkg.Svc/*      -> url_path exact / prefix; Istio's {*} and {**} templates a regex
//   to.hosts         reviews.shop, *.example.com       -> header :authority, ignoring case
//   to.methods       POST                             -> header :method
//   to.ports         9080                             -> destination_port
//   from.ipBlocks    10.0.0.0/16, 10.1.2.3            -> direct_remote_ip (the connection's source)
//   not<Field>       (each of the above)              -> not_rule / not_id of the same match, ANDed in (Istio's)
//   when             request.headers[x], source.*, remote.ip -> principals; destination.ip/port, connection.sni
//                    -> permissions (Istio's split); values OR, notValues as not_id / not_rule, conditions ANDed in
// A trailing or leading `*` is a prefix or suffix match; `*` alone is "any" (for principals: any authenticated peer).
import { isIPv6 } from 'node:net';
import type { AuthorizationRule, Condition, RuleFrom, RuleTo } from '../api/meshpolicy.js';
import type { ProtoMessage } from '../xds/resource.js';
import type { AuthorizationInScope } from '../mesh/policy.js';

export const RBAC_FILTER = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
export const NETWORK_RBAC_FILTER = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

/**
 * The RBAC filters for a workload's inbound HTTP connection manager, in order (DENY, then ALLOW); put them
 * before the router. None when no authorization applies.
 */
export function rbacHttpFilters(authorizations: AuthorizationInScope[], trustDomain: string): ProtoMessage[] {
  const deny = authorizations.filter((a) => a.action === 'DENY');
  const allow = authorizations.filter((a) => a.action === 'ALLOW');
  const filters: ProtoMessage[] = [];
  if (deny.length > 0) filters.push(rbacFilter('weft.rbac.deny', 'DENY', deny, trustDomain));
  // An ALLOW policy without rules contributes no policy: the filter then allows nothing (Istio's allow-nothing).
  if (allow.length > 0) filters.push(rbacFilter('weft.rbac.allow', 'ALLOW', allow, trustDomain));
  return filters;
}

function rbacFilter(name: string, action: 'ALLOW' | 'DENY', authorizations: AuthorizationInScope[], trustDomain: string): ProtoMessage {
  return { name, typed_config: { '@type': RBAC_FILTER, rules: rbacRules(action, authorizations, trustDomain) } };
}

function rbacRules(action: 'ALLOW' | 'DENY', authorizations: AuthorizationInScope[], trustDomain: string): ProtoMessage {
  const policies: Record<string, ProtoMessage> = {};
  for (const { source, rules } of authorizations) {
    rules.forEach((rule, i) => {
      if (rule === undefined) return; // dropped for TCP (see tcpRule)
      policies[`ns[${source.namespace}]-policy[${source.name}]-rule[${i}]`] = policyOf(rule, trustDomain);
    });
  }
  return { action, policies };
}

/**
 * The same authorization for a TCP port of an Envoy sidecar: `envoy.filters.network.rbac` filters (DENY, then
 * ALLOW) before the tcp_proxy. A TCP connection has no host, path, method or request header, so, as Istio does, rules
 * that need them err on the safe side: an ALLOW rule's `to` entries with hosts, paths or methods match nothing (the rule
 * is dropped when none is left; so is one with a request.headers condition), and a DENY rule loses its hosts,
 * paths, methods and header conditions (it denies on its other conditions).
 */
export function rbacNetworkFilters(authorizations: AuthorizationInScope[], trustDomain: string, statPrefix: string): ProtoMessage[] {
  const forTcp = (a: AuthorizationInScope): AuthorizationInScope => ({ ...a, rules: a.rules.map((r) => tcpRule(r, a.action)) as AuthorizationRule[] });
  const filter = (name: string, action: 'ALLOW' | 'DENY'): ProtoMessage[] => {
    const matching = authorizations.filter((a) => a.action === action).map(forTcp);
    if (matching.length === 0) return [];
    return [{ name, typed_config: { '@type': NETWORK_RBAC_FILTER, stat_prefix: statPrefix, rules: rbacRules(action, matching, trustDomain) } }];
  };
  return [...filter('weft.rbac.deny', 'DENY'), ...filter('weft.rbac.allow', 'ALLOW')];
}

/** A rule as TCP can check it (ports and peers only); undefined when it can match no TCP connection. */
function tcpRule(rule: AuthorizationRule, action: 'ALLOW' | 'DENY'): AuthorizationRule | undefined {
  const httpCondition = (c: Condition) => c.key.startsWith('request.');
  if (rule.when?.some(httpCondition)) {
    if (action === 'ALLOW') return undefined;
    const when = rule.when.filter((c) => !httpCondition(c));
    const { when: _, ...withoutWhen } = rule;
    rule = when.length > 0 ? { ...withoutWhen, when } : withoutWhen;
  }
  if (!rule.to) return rule;
  const httpOnly = (to: RuleTo) => [to.hosts, to.notHosts, to.paths, to.notPaths, to.methods, to.notMethods].some((f) => f !== undefined);
  const portsOf = (t: RuleTo): RuleTo => ({ ...(t.ports ? { ports: t.ports } : {}), ...(t.notPorts ? { notPorts: t.notPorts } : {}) });
  const to = action === 'ALLOW' ? rule.to.filter((t) => !httpOnly(t)) : rule.to.map(portsOf);
  if (to.length === 0) return undefined;
  // An entry left without conditions matches any connection.
  const { to: _, ...rest } = rule;
  return to.some((t) => !t.ports && !t.notPorts) ? rest : { ...rest, to };
}

/** One rule: any `to` entry (permissions) and any `from` entry (principals), each side ANDed with its conditions. */
function policyOf(rule: AuthorizationRule, trustDomain: string): ProtoMessage {
  const permissions = rule.to ? rule.to.map(permissionOf) : [{ any: true }];
  const principals = rule.from ? rule.from.map((from) => principalOf(from, trustDomain)) : [{ any: true }];
  const onPermissions = (rule.when ?? []).filter(isPermissionCondition).map(conditionPermission);
  const onPrincipals = (rule.when ?? []).filter((c) => !isPermissionCondition(c)).map((c) => conditionPrincipal(c, trustDomain));
  return {
    permissions: onPermissions.length === 0 ? permissions : [PERMISSIONS.all([PERMISSIONS.any(permissions), ...onPermissions])],
    principals: onPrincipals.length === 0 ? principals : [PRINCIPALS.all([PRINCIPALS.any(principals), ...onPrincipals])],
  };
}

/** Conditions on where the request goes are permissions; on who sends it, principals (as Istio splits them). */
function isPermissionCondition(c: Condition): boolean {
  return c.key === 'destination.ip' || c.key === 'destination.port' || c.key === 'connection.sni';
}

/** How one side of an RBAC policy combines matches: permissions (rules) or principals (ids). */
interface Side {
  any(matches: ProtoMessage[]): ProtoMessage;
  not(match: ProtoMessage): ProtoMessage;
  all(matches: ProtoMessage[]): ProtoMessage;
}
const PERMISSIONS: Side = {
  any: (rules) => (rules.length === 1 ? rules[0]! : { or_rules: { rules } }),
  not: (rule) => ({ not_rule: rule }),
  all: (rules) => ({ and_rules: { rules } }),
};
const PRINCIPALS: Side = {
  any: (ids) => (ids.length === 1 ? ids[0]! : { or_ids: { ids } }),
  not: (id) => ({ not_id: id }),
  all: (ids) => ({ and_ids: { ids } }),
};

/** A field's values (any of them matches) and its negative form's (none may match), as matches. */
interface FieldMatches {
  values?: ProtoMessage[];
  notValues?: ProtoMessage[];
}
function field<T>(values: readonly T[] | undefined, notValues: readonly T[] | undefined, of: (value: T) => ProtoMessage): FieldMatches {
  return { ...(values ? { values: values.map(of) } : {}), ...(notValues ? { notValues: notValues.map(of) } : {}) };
}

/** Every field set must hold (AND); any when none is. */
function allFields(side: Side, fields: FieldMatches[]): ProtoMessage {
  const parts: ProtoMessage[] = [];
  for (const { values, notValues } of fields) {
    if (values) parts.push(side.any(values));
    if (notValues) parts.push(side.not(side.any(notValues)));
  }
  if (parts.length === 0) return { any: true };
  return parts.length === 1 ? parts[0]! : side.all(parts);
}

function conditionPermission(c: Condition): ProtoMessage {
  const of = (value: string): ProtoMessage => {
    if (c.key === 'destination.ip') return { destination_ip: cidrRange(value) };
    if (c.key === 'destination.port') return { destination_port: Number(value) };
    return { requested_server_name: stringMatch(value) };
  };
  return allFields(PERMISSIONS, [field(c.values, c.notValues, of)]);
}

function conditionPrincipal(c: Condition, trustDomain: string): ProtoMessage {
  const header = /^request\.headers\[(.+)\]$/.exec(c.key)?.[1];
  const of = (value: string): ProtoMessage => {
    if (header !== undefined) return { header: value === '*' ? { name: header.toLowerCase(), present_match: true } : { name: header.toLowerCase(), string_match: stringMatch(value) } };
    switch (c.key) {
      case 'source.ip':
        return { direct_remote_ip: cidrRange(value) };
      case 'remote.ip':
        return { remote_ip: cidrRange(value) };
      case 'source.namespace':
        return authenticated(namespaceMatch(value));
      case 'source.trustDomain':
        return authenticated(value === '*' ? ANY_PRINCIPAL : { prefix: `spiffe://${value === 'cluster.local' ? trustDomain : value}/` });
      default: // source.principal
        return authenticated(principalMatch(value, trustDomain));
    }
  };
  return allFields(PRINCIPALS, [field(c.values, c.notValues, of)]);
}

function permissionOf(to: RuleTo): ProtoMessage {
  const path = (p: string): ProtoMessage => (p === '*' ? { any: true } : { url_path: { path: pathMatch(p) } });
  const method = (m: string): ProtoMessage => (m === '*' ? { any: true } : { header: { name: ':method', string_match: { exact: m } } });
  const port = (number: number): ProtoMessage => ({ destination_port: number });
  return allFields(PERMISSIONS, [
    field(to.hosts, to.notHosts, hostPermission),
    field(to.paths, to.notPaths, path),
    field(to.methods, to.notMethods, method),
    field(to.ports, to.notPorts, port),
  ]);
}

/** A host against the request's authority, ignoring case, `*` at either end a wildcard (Istio's HostMatcher). */
function hostPermission(host: string): ProtoMessage {
  if (host === '*') return { header: { name: ':authority', present_match: true } };
  const match = host.startsWith('*') ? { suffix: host.slice(1) } : host.endsWith('*') ? { prefix: host.slice(0, -1) } : { exact: host };
  return { header: { name: ':authority', string_match: { ...match, ignore_case: true } } };
}

function principalOf(from: RuleFrom, trustDomain: string): ProtoMessage {
  const peer = (p: string) => authenticated(principalMatch(p, trustDomain));
  const inNamespace = (ns: string) => authenticated(namespaceMatch(ns));
  const source = (block: string): ProtoMessage => ({ direct_remote_ip: cidrRange(block) });
  return allFields(PRINCIPALS, [
    field(from.principals, from.notPrincipals, peer),
    field(from.namespaces, from.notNamespaces, inNamespace),
    field(from.ipBlocks, from.notIpBlocks, source),
  ]);
}

/** An IP (a block of one address) or a CIDR block as Envoy's CidrRange. */
export function cidrRange(block: string): ProtoMessage {
  const [address, length] = block.split('/') as [string, string | undefined];
  return { address_prefix: address, prefix_len: { value: length === undefined ? (isIPv6(address) ? 128 : 32) : Number(length) } };
}

const authenticated = (principal_name: ProtoMessage): ProtoMessage => ({ authenticated: { principal_name } });

/** Any authenticated peer: a non-empty principal (plaintext peers have none). */
const ANY_PRINCIPAL: ProtoMessage = { safe_regex: { regex: '.+' } };

/** A principal as written in a policy (`td/ns/a/sa/b`, with `*` at either end) against the peer's SPIFFE ID. */
export function principalMatch(principal: string, trustDomain: string): ProtoMessage {
  if (principal === '*') return ANY_PRINCIPAL;
  // Istio's "cluster.local" is an alias for the mesh's own trust domain.
  const name = principal.startsWith('cluster.local/') ? `${trustDomain}/${principal.slice('cluster.local/'.length)}` : principal;
  if (name.endsWith('*')) return { prefix: `spiffe://${name.slice(0, -1)}` };
  if (name.startsWith('*')) return { suffix: name.slice(1) };
  return { exact: `spiffe://${name}` };
}

/** A namespace pattern against the `/ns/<namespace>/` segment of the peer's SPIFFE ID. */
export function namespaceMatch(namespace: string): ProtoMessage {
  if (namespace === '*') return ANY_PRINCIPAL;
  const segment = namespace.endsWith('*')
    ? `${escapeRegex(namespace.slice(0, -1))}[^/]*`
    : namespace.startsWith('*')
      ? `[^/]*${escapeRegex(namespace.slice(1))}`
      : escapeRegex(namespace);
  return { safe_regex: { regex: `.*/ns/${segment}/.*` } };
}

/**
 * A path: Istio's templates (`{*}` one segment, `{**}` any run of segments, none included), else as stringMatch.
 * `/store/{**}/cart` takes /store//cart and /store/a/b/cart, not /store/cart, as Istio's tests have it.
 */
export function pathMatch(path: string): ProtoMessage {
  if (!/\{\*\*?\}/.test(path)) return stringMatch(path);
  const regex = path
    .split(/(\{\*\*?\})/)
    .map((part) => (part === '{**}' ? '.*' : part === '{*}' ? '[^/]+' : escapeRegex(part)))
    .join('');
  return { safe_regex: { regex } };
}

function stringMatch(value: string): ProtoMessage {
  if (value.endsWith('*')) return { prefix: value.slice(0, -1) };
  if (value.startsWith('*')) return { suffix: value.slice(1) };
  return { exact: value };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
