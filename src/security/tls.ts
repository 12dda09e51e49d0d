// Mutual TLS as xDS: MeshPolicy `mtls.mode` becomes the transport sockets of a workload's inbound listener and of
// the clusters that reach it. Certificates are never sent over xDS: both sides name the certificate provider
// instance from the bootstrap `weft agent` writes (file_watcher over the files it keeps fresh), which is the
// only form grpc-js-xds reads (gRFC A29: tls_certificate_provider_instance / ca_certificate_provider_instance).
import type { ProtoMessage } from '../xds/resource.js';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** Istio's default when no policy says otherwise. */
export const DEFAULT_MTLS_MODE: MtlsMode = 'PERMISSIVE';

/** The bootstrap's `certificate_providers` key (see src/agent/bootstrap.ts): identity and roots come from it. */
export const CERTIFICATE_PROVIDER_INSTANCE = 'default';

export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';
export const DOWNSTREAM_TLS_CONTEXT = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const UPSTREAM_TLS_CONTEXT = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** One filter chain a server listener needs for a mode; build each with the same HTTP connection manager. */
export interface InboundFilterChainSecurity {
  /** Appended to the filter chain's name, e.g. `inbound|mtls`. */
  name: 'mtls' | 'plaintext';
  /** Absent: plaintext. */
  transport_socket?: ProtoMessage;
}

/**
 * The filter chains of a proxyless gRPC server's inbound listener for `mode`.
 *
 * - STRICT: one chain, TLS that requires a client certificate chaining to the mesh roots.
 * - PERMISSIVE: one plaintext chain. A gRPC xDS server picks a filter chain before reading a byte and cannot tell
 *   TLS from plaintext (gRFC A36 allows only transport_protocol "raw_buffer"), so it cannot accept both on one port.
 *   Like Istio's proxyless support, PERMISSIVE serves plaintext, and clients pick plaintext for it (see
 *   clientTransportSocket), so mesh clients and plaintext clients both get through; `from` rules of authorization
 *   then match nothing, as for any plaintext request.
 * - DISABLE: one plaintext chain.
 */
export function inboundFilterChains(mode: MtlsMode): InboundFilterChainSecurity[] {
  if (mode !== 'STRICT') return [{ name: 'plaintext' }];
  return [{ name: 'mtls', transport_socket: downstreamTransportSocket() }];
}

/** The server side of mutual TLS: our identity, and client certificates required and verified against the roots. */
export function downstreamTransportSocket(): ProtoMessage {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': DOWNSTREAM_TLS_CONTEXT,
      common_tls_context: {
        tls_certificate_provider_instance: { instance_name: CERTIFICATE_PROVIDER_INSTANCE, certificate_name: 'default' },
        validation_context: { ca_certificate_provider_instance: { instance_name: CERTIFICATE_PROVIDER_INSTANCE, certificate_name: 'ROOTCA' } },
      },
      require_client_certificate: { value: true },
    },
  };
}

/** The client's TLS setting for a destination, as a DestinationRule's `trafficPolicy.tls.mode` may state it. */
export type ClientTlsMode = 'DISABLE' | 'ISTIO_MUTUAL' | 'SIMPLE' | 'MUTUAL';

/**
 * Whether a client uses mutual TLS toward a destination: an explicit DestinationRule mode wins; otherwise
 * ("auto mTLS") it follows the destination's own mode, mutual TLS exactly when the server requires it.
 */
export function usesMutualTls(destinationMode: MtlsMode, explicit?: ClientTlsMode): boolean {
  if (explicit === 'ISTIO_MUTUAL') return true;
  if (explicit === 'DISABLE') return false;
  return destinationMode === 'STRICT';
}

/**
 * The transport socket of a cluster that reaches workloads in `destinationMode`, or undefined for plaintext.
 * `serverIdentities` are the SPIFFE IDs the server may present (its ServiceAccounts); the client refuses any
 * other. Empty means any identity of the trust domain `trustDomain`.
 */
export function clientTransportSocket(options: {
  destinationMode: MtlsMode;
  explicit?: ClientTlsMode;
  serverIdentities: string[];
  trustDomain: string;
}): ProtoMessage | undefined {
  if (!usesMutualTls(options.destinationMode, options.explicit)) return undefined;
  const sans = options.serverIdentities.length > 0
    ? [...new Set(options.serverIdentities)].sort().map((id) => ({ exact: id }))
    : [{ prefix: `spiffe://${options.trustDomain}/` }];
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': UPSTREAM_TLS_CONTEXT,
      common_tls_context: {
        tls_certificate_provider_instance: { instance_name: CERTIFICATE_PROVIDER_INSTANCE, certificate_name: 'default' },
        validation_context: {
          ca_certificate_provider_instance: { instance_name: CERTIFICATE_PROVIDER_INSTANCE, certificate_name: 'ROOTCA' },
          match_subject_alt_names: sans,
        },
      },
    },
  };
}
