// `weft operator` flags for sidecar injection, kept here so main.ts only spreads them in.
import type { ParseArgsOptionsConfig } from 'node:util';
import { ENVOY_IMAGE } from '../gateway/names.js';
import { OPERATOR_IMAGE } from '../install/names.js';
import type { InjectionOptions } from './template.js';

export const INJECT_FLAGS = {
  'webhook-port': { type: 'string' },
  'webhook-host': { type: 'string', default: '0.0.0.0' },
  'proxy-image': { type: 'string', default: ENVOY_IMAGE },
  'agent-image': { type: 'string', default: OPERATOR_IMAGE },
} satisfies ParseArgsOptionsConfig;

export const INJECT_USAGE = `    --webhook-port <port>     serve the sidecar injection webhook (HTTPS, the CA's serving certificate); off unless given
    --webhook-host <ip>       address to listen on (default 0.0.0.0)
    --proxy-image <image>     the Envoy image injected sidecars run (default ${ENVOY_IMAGE})
    --agent-image <image>     the Weft image of the injected \`weft agent\` and capture init container (default ${OPERATOR_IMAGE})
`;

export interface InjectFlagOptions extends InjectionOptions {
  port: number;
  host: string;
}

/** The injection options, or undefined when --webhook-port is absent (no webhook). */
export function injectOptionsFromFlags(values: { 'webhook-port'?: string; 'webhook-host'?: string; 'proxy-image'?: string; 'agent-image'?: string }): InjectFlagOptions | undefined {
  if (values['webhook-port'] === undefined) return undefined;
  const port = Number(values['webhook-port']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--webhook-port: expected a port number, got ${values['webhook-port']}`);
  return { port, host: values['webhook-host']!, proxyImage: values['proxy-image']!, agentImage: values['agent-image']! };
}
