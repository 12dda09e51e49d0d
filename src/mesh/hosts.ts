// Host names as Istio resolves them: a short name (no dot) is a Service in the namespace of the rule that uses it,
// any name with a dot is taken as written (`pypi.org` is not a Service `pypi` in namespace `org`), and `*.suffix`
// wildcards match any one or more leading labels.
export const CLUSTER_DOMAIN = 'cluster.local';

/**
 * Expands a host written in `namespace`'s resource to a fully qualified name (`reviews` ->
 * `reviews.ns.svc.cluster.local`), as Istio's ResolveShortnameToFQDN does: only a name without a dot is expanded.
 */
export function qualifyHost(host: string, namespace: string): string {
  if (host === '*' || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** The Kubernetes Service a fully qualified host names, if it is of the form `name.ns.svc.cluster.local`. */
export function serviceOfHost(fqdn: string): { namespace: string; name: string } | undefined {
  const suffix = `.svc.${CLUSTER_DOMAIN}`;
  if (!fqdn.endsWith(suffix)) return undefined;
  const labels = fqdn.slice(0, -suffix.length).split('.');
  if (labels.length !== 2 || labels[0] === '*') return undefined;
  return { name: labels[0]!, namespace: labels[1]! };
}

/** Whether `pattern` (possibly `*` or `*.suffix`) matches the concrete or wildcard `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1); // ".example.com"
  return host.endsWith(suffix) && host.length > suffix.length;
}

/** Whether two host patterns can match a common host (used for conflict detection). */
export function hostsOverlap(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** A Gateway server host without its `namespace/` prefix (which says which VirtualServices may bind): the host it claims. */
export function bareHost(host: string): string {
  const slash = host.indexOf('/');
  return slash < 0 ? host : host.slice(slash + 1);
}
