// `weft operator` flags for the CA, kept here so main.ts only spreads them in.
import type { ParseArgsOptionsConfig } from 'node:util';
import { CA_PORT } from '../install/names.js';
import { caConfigProblems, DEFAULT_CA_CONFIG, parseDuration, type CaConfig } from './config.js';
import type { CaOptions } from './index.js';
import { isKeyAlgorithm, KEY_ALGORITHMS } from './keys.js';


export const CA_FLAGS = {
  'ca-port': { type: 'string', default: String(CA_PORT) },
  'ca-host': { type: 'string', default: '0.0.0.0' },
  'trust-domain': { type: 'string', default: DEFAULT_CA_CONFIG.trustDomain },
  'ca-key-algorithm': { type: 'string', default: DEFAULT_CA_CONFIG.keyAlgorithm },
  'ca-root-ttl': { type: 'string', default: '87600h' },
  'ca-intermediate-ttl': { type: 'string', default: '8760h' },
  'ca-workload-ttl': { type: 'string', default: '24h' },
  'ca-max-workload-ttl': { type: 'string', default: '168h' },
  'ca-token-audience': { type: 'string', default: DEFAULT_CA_CONFIG.tokenAudience },
  'tls-san': { type: 'string', multiple: true, default: [] as string[] },
} satisfies ParseArgsOptionsConfig;

export const CA_USAGE = `    --ca-port <port>          TLS gRPC port of the certificate service (default ${CA_PORT}; 0 picks a free port)
    --ca-host <ip>            address to listen on (default 0.0.0.0)
    --trust-domain <td>       SPIFFE trust domain (default cluster.local)
    --ca-key-algorithm <alg>  ${KEY_ALGORITHMS.join(' | ')} for the CA's own keys (default ECDSA_P256)
    --ca-root-ttl <dur>       self-signed root lifetime (default 87600h); rotated at 2/3 of it
    --ca-intermediate-ttl <dur>  intermediate lifetime (default 8760h); renewed at 2/3 of it
    --ca-workload-ttl <dur>   workload certificate lifetime when none is requested (default 24h)
    --ca-max-workload-ttl <dur>  longest workload certificate; longer requests are capped (default 168h)
    --ca-token-audience <aud> audience callers' ServiceAccount tokens must carry (default weft-ca)
    --tls-san <name|ip>       extra DNS name or IP in the serving certificate (repeatable)
`;

type Values = { [K in keyof typeof CA_FLAGS]?: (typeof CA_FLAGS)[K] extends { multiple: true } ? string[] : string };

export function caOptionsFromFlags(values: Values, namespace: string, serviceAccount: string): CaOptions {
  const algorithm = values['ca-key-algorithm']!;
  if (!isKeyAlgorithm(algorithm)) throw new Error(`--ca-key-algorithm: expected ${KEY_ALGORITHMS.join(' or ')}, got ${algorithm}`);
  const duration = (flag: keyof Values): number => {
    try {
      return parseDuration(values[flag] as string);
    } catch (err) {
      throw new Error(`--${flag}: ${(err as Error).message}`);
    }
  };
  const config: CaConfig = {
    trustDomain: values['trust-domain']!,
    keyAlgorithm: algorithm,
    rootTtlMs: duration('ca-root-ttl'),
    intermediateTtlMs: duration('ca-intermediate-ttl'),
    defaultWorkloadTtlMs: duration('ca-workload-ttl'),
    maxWorkloadTtlMs: duration('ca-max-workload-ttl'),
    tokenAudience: values['ca-token-audience']!,
  };
  const problems = caConfigProblems(config);
  if (problems.length > 0) throw new Error(`CA configuration: ${problems.join('; ')}`);
  const port = Number(values['ca-port']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--ca-port: expected a port number, got ${values['ca-port']}`);
  const sans = values['tls-san'] ?? [];
  const isIp = (s: string): boolean => /^[\d.]+$/.test(s) || s.includes(':');
  return {
    config,
    namespace,
    serviceAccount,
    listen: { host: values['ca-host']!, port },
    dnsNames: [`${serviceAccount}.${namespace}.svc`, `${serviceAccount}.${namespace}.svc.cluster.local`, ...sans.filter((s) => !isIp(s))],
    ipAddresses: sans.filter(isIp),
  };
}
