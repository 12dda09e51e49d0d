// Mutual TLS for Envoy sidecars. The sidecar's `weft agent` keeps cert-chain.pem, key.pem and root-cert.pem fresh in
// its output directory (src/agent/files.ts: an atomic `..data` symlink switch, like a Kubernetes Secret volume).
// Envoy reloads file-based certificates only when they reach it through SDS: certificates named inline in a
// transport socket are read once and never again (Envoy's "Certificate Management": static CommonTlsContext
// certificates "will not reload automatically"). So the operator serves two SDS Secrets over the same ADS stream,
// Istio's `default` (identity) and `ROOTCA` (roots), that hold only the file paths (never key material) and a
// `watched_directory` on the output directory: the agent's rename of `..data` is a move in that directory, which
// makes Envoy re-read the files, the certificate and key together (Envoy checks they were read consistently).
import { CERT_CHAIN_FILE, KEY_FILE, ROOT_CERT_FILE } from '../agent/files.js';
import type { ProtoMessage } from '../xds/resource.js';
import { DOWNSTREAM_TLS_CONTEXT, TLS_TRANSPORT_SOCKET, UPSTREAM_TLS_CONTEXT } from './tls.js';

/** `weft agent --output-dir` default: where a sidecar's certificate files are. */
export const AGENT_CREDENTIALS_DIR = '/var/run/weft';
/** Istio's SDS names: the workload's certificate and key, and the roots it trusts. */
export const IDENTITY_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';

const ADS: ProtoMessage = { ads: {}, resource_api_version: 'V3' };
const sdsRef = (name: string): ProtoMessage => ({ name, sds_config: ADS });

/** The two SDS Secrets (envoy.extensions.transport_sockets.tls.v3.Secret) pointing at the agent's files. */
export function envoyCredentialSecrets(dir = AGENT_CREDENTIALS_DIR): Array<{ name: string; message: ProtoMessage }> {
  const file = (name: string): ProtoMessage => ({ filename: `${dir}/${name}` });
  const watched = { path: dir };
  return [
    {
      name: IDENTITY_SECRET,
      message: { name: IDENTITY_SECRET, tls_certificate: { certificate_chain: file(CERT_CHAIN_FILE), private_key: file(KEY_FILE), watched_directory: watched } },
    },
    { name: ROOT_SECRET, message: { name: ROOT_SECRET, validation_context: { trusted_ca: file(ROOT_CERT_FILE), watched_directory: watched } } },
  ];
}

/** The server side: the sidecar's identity, and a client certificate required and verified against the roots. */
export function envoyDownstreamTransportSocket(): ProtoMessage {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': DOWNSTREAM_TLS_CONTEXT,
      common_tls_context: {
        tls_certificate_sds_secret_configs: [sdsRef(IDENTITY_SECRET)],
        validation_context_sds_secret_config: sdsRef(ROOT_SECRET),
      },
      require_client_certificate: { value: true },
    },
  };
}

/**
 * The client side toward a mesh destination: the sidecar's identity, the destination's SNI (Istio's
 * `outbound_.<port>_.<subset>_.<host>`), and the server's certificate must carry one of `serverIdentities` as
 * a URI SAN (empty: any identity of `trustDomain`).
 */
export function envoyUpstreamTransportSocket(options: { sni: string; serverIdentities: string[]; trustDomain: string }): ProtoMessage {
  const sans = options.serverIdentities.length > 0
    ? [...new Set(options.serverIdentities)].sort().map((id) => ({ san_type: 'URI', matcher: { exact: id } }))
    : [{ san_type: 'URI', matcher: { prefix: `spiffe://${options.trustDomain}/` } }];
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': UPSTREAM_TLS_CONTEXT,
      sni: options.sni,
      common_tls_context: {
        tls_certificate_sds_secret_configs: [sdsRef(IDENTITY_SECRET)],
        combined_validation_context: {
          default_validation_context: { match_typed_subject_alt_names: sans },
          validation_context_sds_secret_config: sdsRef(ROOT_SECRET),
        },
      },
    },
  };
}

/** Where Debian-based images (Envoy's among them) keep the system's trusted roots: the default for origination. */
export const SYSTEM_ROOTS = '/etc/ssl/certs/ca-certificates.crt';

/** A DestinationRule's `tls` for TLS origination (modes SIMPLE and MUTUAL), from Istio's ClientTLSSettings. */
export interface OriginationTls {
  mode: 'SIMPLE' | 'MUTUAL';
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  caCrl?: string;
  subjectAltNames?: string[];
  sni?: string;
  insecureSkipVerify?: boolean;
}

/**
 * TLS origination toward a service that speaks TLS itself (typically an external API): the server is verified
 * against `caCertificates` (the system roots by default) and, when given, `subjectAltNames`; SNI is `sni` or the
 * host; MUTUAL presents the certificate and key files. Files, as Istio's sidecars read them.
 */
export function envoyOriginationTransportSocket(tls: OriginationTls, host: string): ProtoMessage {
  const validation: ProtoMessage | undefined = tls.insecureSkipVerify
    ? undefined
    : {
        trusted_ca: { filename: tls.caCertificates ?? SYSTEM_ROOTS },
        ...(tls.caCrl ? { crl: { filename: tls.caCrl } } : {}),
        ...(tls.subjectAltNames?.length ? { match_typed_subject_alt_names: tls.subjectAltNames.map((name) => ({ san_type: 'DNS', matcher: { exact: name } })) } : {}),
      };
  const identity = tls.mode === 'MUTUAL' && tls.clientCertificate && tls.privateKey
    ? { tls_certificates: [{ certificate_chain: { filename: tls.clientCertificate }, private_key: { filename: tls.privateKey } }] }
    : {};
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': UPSTREAM_TLS_CONTEXT,
      sni: tls.sni ?? host,
      common_tls_context: { ...identity, ...(validation ? { validation_context: validation } : {}) },
    },
  };
}

/** Istio's SNI for a cluster: `outbound_.9080_.v1_.reviews.shop.svc.cluster.local`, `outbound_.9080_._.reviews...` without a subset. */
export function outboundSni(host: string, port: number, subset?: string): string {
  return `outbound_.${port}_.${subset ?? ''}_.${host}`;
}
