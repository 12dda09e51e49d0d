// `weft operator` flags for xDS, kept here so main.ts only spreads them in.
import type { ParseArgsOptionsConfig } from 'node:util';
import { parseDuration } from '../ca/config.js';
import { DEFAULT_XDS_LIMITS, type XdsLimits } from './server/limits.js';

export const XDS_FLAGS = {
  xds: { type: 'boolean', default: false },
  'xds-port': { type: 'string' },
  'xds-debug-port': { type: 'string' },
  'xds-max-pending-bytes': { type: 'string' },
  'xds-max-names-per-request': { type: 'string' },
  'xds-max-connection-age': { type: 'string' },
  'xds-max-connections-per-peer': { type: 'string' },
  'xds-max-streams-per-peer': { type: 'string' },
} satisfies ParseArgsOptionsConfig;

export const XDS_USAGE = `    --xds                     serve xDS (ADS, SotW and delta) on the CA's authenticated TLS port, where each
                              workload's \`weft agent\` relays its proxy (the installed operator runs with it)
    --xds-port <port>         also serve xDS plaintext on 127.0.0.1 only, for tests and local development (implies
                              --xds); 0 picks a port
    --xds-debug-port <port>   /debug/syncz, /debug/config_dump?proxy=<node id>, /debug/resources on 127.0.0.1
    --xds-max-pending-bytes <n>     bytes a client may leave unread before its stream is closed (default 33554432)
    --xds-max-names-per-request <n> resource names one request may name (default 50000)
    --xds-max-connection-age <dur>  connections are asked to go after this (GOAWAY, 5m grace), so clients rebalance
                                    over replicas (default 30m)
    --xds-max-connections-per-peer <n>  connections one client IP may hold open on the TLS port (default 256)
    --xds-max-streams-per-peer <n>      xDS streams one client IP may hold open on the TLS port (default 1024); raise
                                        both when many clients share an address (NAT, hostNetwork Pods)
`;

export interface XdsFlagOptions {
  /** The plaintext loopback port; absent: only the authenticated port serves xDS. */
  port?: number;
  debugPort?: number;
  limits: XdsLimits;
}

function port(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${flag}: expected a port number, got ${value}`);
  return n;
}

function positive(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected a positive whole number, got ${value}`);
  return n;
}

/** The xDS options, or undefined when neither --xds nor --xds-port is given (xDS off). */
export function xdsOptionsFromFlags(values: {
  xds?: boolean;
  'xds-port'?: string;
  'xds-debug-port'?: string;
  'xds-max-pending-bytes'?: string;
  'xds-max-names-per-request'?: string;
  'xds-max-connection-age'?: string;
  'xds-max-connections-per-peer'?: string;
  'xds-max-streams-per-peer'?: string;
}): XdsFlagOptions | undefined {
  if (!values.xds && values['xds-port'] === undefined) {
    if (values['xds-debug-port'] !== undefined) throw new Error('--xds-debug-port needs --xds or --xds-port');
    return undefined;
  }
  let maxConnectionAgeMs = DEFAULT_XDS_LIMITS.maxConnectionAgeMs;
  if (values['xds-max-connection-age'] !== undefined) {
    try {
      maxConnectionAgeMs = parseDuration(values['xds-max-connection-age']);
    } catch (err) {
      throw new Error(`--xds-max-connection-age: ${(err as Error).message}`);
    }
  }
  const limits: XdsLimits = {
    ...DEFAULT_XDS_LIMITS,
    maxPendingBytes: positive('xds-max-pending-bytes', values['xds-max-pending-bytes'], DEFAULT_XDS_LIMITS.maxPendingBytes),
    maxNamesPerRequest: positive('xds-max-names-per-request', values['xds-max-names-per-request'], DEFAULT_XDS_LIMITS.maxNamesPerRequest),
    maxConnectionAgeMs,
    maxConnectionsPerPeer: positive('xds-max-connections-per-peer', values['xds-max-connections-per-peer'], DEFAULT_XDS_LIMITS.maxConnectionsPerPeer),
    maxStreamsPerPeer: positive('xds-max-streams-per-peer', values['xds-max-streams-per-peer'], DEFAULT_XDS_LIMITS.maxStreamsPerPeer),
  };
  const options: XdsFlagOptions = { limits };
  if (values['xds-port'] !== undefined) options.port = port('xds-port', values['xds-port']);
  if (values['xds-debug-port'] !== undefined) options.debugPort = port('xds-debug-port', values['xds-debug-port']);
  return options;
}
