// Workload identities: SPIFFE IDs of the form spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>, the
// same shape Istio uses, so policies written as `cluster.local/ns/a/sa/frontend` read the same in both.

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

// SPIFFE trust domains: lowercase letters, digits, dots, dashes and underscores (SPIFFE-ID spec, section 2.1).
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
// Kubernetes namespaces are DNS labels; ServiceAccount names are DNS subdomains.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a trust domain is invalid, or undefined when it is fine. */
export function trustDomainProblem(trustDomain: string): string | undefined {
  if (!TRUST_DOMAIN.test(trustDomain)) {
    return `trust domain ${JSON.stringify(trustDomain)} must be 1-255 characters of lowercase letters, digits, '.', '-' and '_'`;
  }
  return undefined;
}

export function spiffeId(identity: WorkloadIdentity): string {
  return `spiffe://${identity.trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
}

/** Parses a workload SPIFFE ID; undefined for anything that is not exactly spiffe://td/ns/<ns>/sa/<sa>. */
export function parseSpiffeId(uri: string): WorkloadIdentity | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  const [, trustDomain, namespace, serviceAccount] = m as unknown as [string, string, string, string];
  if (trustDomainProblem(trustDomain) || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(serviceAccount)) return undefined;
  return { trustDomain, namespace, serviceAccount };
}

/**
 * The identity of a Kubernetes ServiceAccount username as TokenReview reports it
 * (`system:serviceaccount:<namespace>:<name>`); undefined for other users.
 */
export function identityFromUsername(username: string, trustDomain: string): WorkloadIdentity | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  if (!m || !DNS_LABEL.test(m[1]!) || !DNS_SUBDOMAIN.test(m[2]!)) return undefined;
  return { trustDomain, namespace: m[1]!, serviceAccount: m[2]! };
}
