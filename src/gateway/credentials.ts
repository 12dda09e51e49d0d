// TLS credentials a Gateway's servers name (`tls.credentialName`): Secrets in the Gateway's namespace, which the
// gateway proxies receive over SDS. A missing one is reported on its server, not silently served without TLS.
import type { Gateway } from '../api/index.js';
import type { Problem } from '../mesh/verdict.js';

export interface CredentialRef {
  /** Index of the server in spec.servers. */
  server: number;
  namespace: string;
  name: string;
}

export function credentialRefs(gw: Gateway): CredentialRef[] {
  return gw.spec.servers.flatMap((server, i) =>
    server.tls?.credentialName ? [{ server: i, namespace: gw.metadata.namespace!, name: server.tls.credentialName }] : [],
  );
}

/** `namespace/name` of every Secret the Gateway refers to: the index that maps a Secret's events to its Gateways. */
export function credentialKeys(gw: Gateway): string[] {
  return [...new Set(credentialRefs(gw).map((ref) => `${ref.namespace}/${ref.name}`))];
}

/** One problem per server whose Secret does not exist (or is not a TLS Secret, which Weft does not read). */
export function credentialProblems(gw: Gateway, tlsSecretExists: (namespace: string, name: string) => boolean): Problem[] {
  return credentialRefs(gw)
    .filter((ref) => !tlsSecretExists(ref.namespace, ref.name))
    .map((ref) => ({
      reason: 'CredentialNotFound',
      field: `spec.servers[${ref.server}].tls.credentialName`,
      message: `Secret ${ref.namespace}/${ref.name} of type kubernetes.io/tls not found: create it (kubectl create secret tls ${ref.name} -n ${ref.namespace} --cert=... --key=...)`,
    }));
}
