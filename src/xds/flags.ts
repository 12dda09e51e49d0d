// `weft operator` flags for xDS, kept here so main.ts only spreads them in.
import type { ParseArgsOptionsConfig } from 'node:util';

export const XDS_FLAGS = {
  'xds-port': { type: 'string' },
  'xds-debug-port': { type: 'string' },
} satisfies ParseArgsOptionsConfig;

export const XDS_USAGE = `    --xds-port <port>         serve xDS (ADS, SotW and delta), plaintext on 127.0.0.1 only, for tests and local
                              development (proxies reach the operator through \`weft agent\`); off unless given; 0 picks a port
    --xds-debug-port <port>   /debug/syncz, /debug/config_dump?proxy=<node id>, /debug/resources on 127.0.0.1
`;

export interface XdsFlagOptions {
  port: number;
  debugPort?: number;
}

function port(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${flag}: expected a port number, got ${value}`);
  return n;
}

/** The xDS options, or undefined when --xds-port is absent (xDS off). */
export function xdsOptionsFromFlags(values: { 'xds-port'?: string; 'xds-debug-port'?: string }): XdsFlagOptions | undefined {
  if (values['xds-port'] === undefined) {
    if (values['xds-debug-port'] !== undefined) throw new Error('--xds-debug-port needs --xds-port');
    return undefined;
  }
  const options: XdsFlagOptions = { port: port('xds-port', values['xds-port']) };
  if (values['xds-debug-port'] !== undefined) options.debugPort = port('xds-debug-port', values['xds-debug-port']);
  return options;
}
