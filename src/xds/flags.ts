// `weft operator` flags for xDS, kept here so main.ts only spreads them in.
import type { ParseArgsOptionsConfig } from 'node:util';

export const XDS_FLAGS = {
  xds: { type: 'boolean', default: false },
  'xds-port': { type: 'string' },
  'xds-debug-port': { type: 'string' },
} satisfies ParseArgsOptionsConfig;

export const XDS_USAGE = `    --xds                     serve xDS (ADS, SotW and delta) on the CA's authenticated TLS port, where each
                              workload's \`weft agent\` relays its proxy (the installed operator runs with it)
    --xds-port <port>         also serve xDS plaintext on 127.0.0.1 only, for tests and local development (implies
                              --xds); 0 picks a port
    --xds-debug-port <port>   /debug/syncz, /debug/config_dump?proxy=<node id>, /debug/resources on 127.0.0.1
`;

export interface XdsFlagOptions {
  /** The plaintext loopback port; absent: only the authenticated port serves xDS. */
  port?: number;
  debugPort?: number;
}

function port(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${flag}: expected a port number, got ${value}`);
  return n;
}

/** The xDS options, or undefined when neither --xds nor --xds-port is given (xDS off). */
export function xdsOptionsFromFlags(values: { xds?: boolean; 'xds-port'?: string; 'xds-debug-port'?: string }): XdsFlagOptions | undefined {
  if (!values.xds && values['xds-port'] === undefined) {
    if (values['xds-debug-port'] !== undefined) throw new Error('--xds-debug-port needs --xds or --xds-port');
    return undefined;
  }
  const options: XdsFlagOptions = {};
  if (values['xds-port'] !== undefined) options.port = port('xds-port', values['xds-port']);
  if (values['xds-debug-port'] !== undefined) options.debugPort = port('xds-debug-port', values['xds-debug-port']);
  return options;
}
