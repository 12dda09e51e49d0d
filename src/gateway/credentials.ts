// TLS credentials a Gateway's servers name (`tls.credentialName`, `credentialNames`, `caCertCredentialName`): Secrets in the Gateway's namespace, which the
// gateway proxies receive over SDS. A missing one is reported on its server, not silently served without TLS.
import type { Gateway } from '../api/index.js';
import type { Problem } from '../mesh/verdict.js';

export interface CredentialRef {
  /** Index of the server in spec.servers. */
  server: number;
  /** The field that names it, under spec.servers[server].tls. */
  field: string;
  namespace: string;
  name: string;
}

export function credentialRefs(gw: Gateway): CredentialRef[] {
  const namespace = gw.metadata.namespace!;
  return gw.spec.servers.flatMap((server, i) => {
    const tls = server.tls;
    return [
      ...(tls?.credentialName ? [{ server: i, field: 'credentialName', namespace, name: tls.credentialName }] : []),
      ...(tls?.credentialNames ?? []).map((name, j) => ({ server: i, field: `credentialNames[${j}]`, namespace, name })),
      ...(tls?.caCertCredentialName ? [{ server: i, field: 'caCertCredentialName', namespace, name: tls.caCertCredentialName }] : []),
    ];
  });
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
      field: `spec.servers[${ref.server}].tls.${ref.field}`,
      message: `Secret ${ref.namespace}/${ref.name} of type kubernetes.io/tls not found: create it (kubectl create secret tls ${ref.name} -n ${ref.namespace} --cert=... --key=...)`,
    }));
}
