// MeshPolicy `authorization` as Envoy RBAC HTTP filters (envoy.extensions.filters.http.rbac.v3.RBAC), which
// grpc-js-xds enforces on servers when GRPC_XDS_EXPERIMENTAL_RBAC=true (gRFC A41). Istio's AuthorizationPolicy
// semantics: DENY policies first, then, if any ALLOW policy applies, a request must match one of its rules.
//
//   from.principals  cluster.local/ns/a/sa/frontend   -> authenticated principal spiffe://cluster.local/ns/a/sa/frontend
//   from.namespaces  a                                -> authenticated principal matching .*/ns/a/.*
//   to.paths         /pkg.Svc/Method, /pkg.Svc/*      -> url_path exact / prefix
//   to.methods       POST                             -> header :method
//   to.ports         9080                             -> destination_port
// A trailing or leading `*` is a prefix or suffix match; `*` alone is "any" (for principals: any authenticated peer).
import type { AuthorizationRule, RuleFrom, RuleTo } from '../api/meshpolicy.js';
import type { ProtoMessage } from '../xds/resource.js';
import type { AuthorizationInScope } from './policy.js';

export const RBAC_FILTER = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';

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
  const policies: Record<string, ProtoMessage> = {};
  for (const { source, rules } of authorizations) {
    rules.forEach((rule, i) => {
      policies[`ns[${source.namespace}]-policy[${source.name}]-rule[${i}]`] = policyOf(rule, trustDomain);
    });
  }
  return { name, typed_config: { '@type': RBAC_FILTER, rules: { action, policies } } };
}

/** One rule: any `to` entry (permissions) and any `from` entry (principals). */
function policyOf(rule: AuthorizationRule, trustDomain: string): ProtoMessage {
  return {
    permissions: rule.to ? rule.to.map(permissionOf) : [{ any: true }],
    principals: rule.from ? rule.from.map((from) => principalOf(from, trustDomain)) : [{ any: true }],
  };
}

function permissionOf(to: RuleTo): ProtoMessage {
  const parts: ProtoMessage[] = [];
  if (to.paths) parts.push(orRules(to.paths.map((p) => (p === '*' ? { any: true } : { url_path: { path: stringMatch(p) } }))));
  if (to.methods) parts.push(orRules(to.methods.map((m) => (m === '*' ? { any: true } : { header: { name: ':method', string_match: { exact: m } } }))));
  if (to.ports) parts.push(orRules(to.ports.map((port) => ({ destination_port: port }))));
  return parts.length === 1 ? parts[0]! : { and_rules: { rules: parts } };
}

function principalOf(from: RuleFrom, trustDomain: string): ProtoMessage {
  const parts: ProtoMessage[] = [];
  if (from.principals) parts.push(orIds(from.principals.map((p) => authenticated(principalMatch(p, trustDomain)))));
  if (from.namespaces) parts.push(orIds(from.namespaces.map((ns) => authenticated(namespaceMatch(ns)))));
  return parts.length === 1 ? parts[0]! : { and_ids: { ids: parts } };
}

const orRules = (rules: ProtoMessage[]): ProtoMessage => (rules.length === 1 ? rules[0]! : { or_rules: { rules } });
const orIds = (ids: ProtoMessage[]): ProtoMessage => (ids.length === 1 ? ids[0]! : { or_ids: { ids } });
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

function stringMatch(value: string): ProtoMessage {
  if (value.endsWith('*')) return { prefix: value.slice(0, -1) };
  if (value.startsWith('*')) return { suffix: value.slice(1) };
  return { exact: value };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
