// What one xDS client may cost the server, with defaults that a 10 000-service mesh stays well inside: a slow or
// hostile client is cut off with a clear gRPC status, and the others do not notice.
import type { ChannelOptions } from '@grpc/grpc-js';

export interface XdsLimits {
  /** Bytes written to a stream and not yet taken by its client; over it the stream ends RESOURCE_EXHAUSTED. */
  maxPendingBytes: number;
  /** Resource names one request may name (subscribed, or initial versions in delta). */
  maxNamesPerRequest: number;
  /** The largest request accepted (gRPC's receive limit). */
  maxRequestBytes: number;
  /**
   * Per peer (the client's IP), on the authenticated TLS port: connections it may hold open (past it a new one is
   * closed at once), and ADS streams (past it a new one ends RESOURCE_EXHAUSTED). Sidecars and agents open one
   * connection each from their own Pod IP; raise both when many clients share an address (a NAT, hostNetwork Pods).
   * The plaintext port binds loopback, where every client is one peer, and does not count them.
   */
  maxConnectionsPerPeer: number;
  maxStreamsPerPeer: number;
  /** Concurrent streams on one HTTP/2 connection. */
  maxStreamsPerConnection: number;
  /** After this long a connection is asked to go (GOAWAY), so clients spread over replicas as they come and go. */
  maxConnectionAgeMs: number;
  /** How long its streams may still run after that. */
  maxConnectionAgeGraceMs: number;
  /** Keepalive pings from the server, so dead connections are noticed. */
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
}

export const DEFAULT_XDS_LIMITS: XdsLimits = {
  maxPendingBytes: 32 * 1024 * 1024,
  maxNamesPerRequest: 50_000,
  maxRequestBytes: 4 * 1024 * 1024,
  maxConnectionsPerPeer: 256,
  maxStreamsPerPeer: 1024,
  maxStreamsPerConnection: 100,
  maxConnectionAgeMs: 30 * 60_000,
  maxConnectionAgeGraceMs: 5 * 60_000,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
};

/** The gRPC server options that enforce the connection-level limits (the plaintext and the TLS xDS servers alike). */
export function xdsServerOptions(limits: XdsLimits = DEFAULT_XDS_LIMITS): ChannelOptions {
  return {
    // Channelz keeps per-call bookkeeping that costs real time with thousands of streams.
    'grpc.enable_channelz': 0,
    'grpc.max_receive_message_length': limits.maxRequestBytes,
    'grpc.max_concurrent_streams': limits.maxStreamsPerConnection,
    'grpc.max_connection_age_ms': limits.maxConnectionAgeMs,
    'grpc.max_connection_age_grace_ms': limits.maxConnectionAgeGraceMs,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
  };
}
