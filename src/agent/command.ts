// `weft agent` flags and process wiring (signals, logger); the work is in agent.ts.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../ca/config.js';
import { DEFAULT_KEY_ALGORITHM, isKeyAlgorithm, KEY_ALGORITHMS } from '../ca/keys.js';
import { DEFAULT_TRUST_DOMAIN } from '../ca/spiffe.js';
import { defaultLogger } from '../controllers/logger.js';
import { CA_PORT, OPERATOR_NAME, OPERATOR_NAMESPACE } from '../install/names.js';
import { Agent } from './agent.js';

export const AGENT_USAGE = `  agent      run beside a workload: its certificate (renewed at half life), its xDS bootstrap
    --ca-address <host:port>  the operator's certificate service (default ${OPERATOR_NAME}.${OPERATOR_NAMESPACE}.svc:${CA_PORT})
    --ca-identity <spiffe>    SPIFFE ID the CA server must present (default spiffe://<td>/ns/${OPERATOR_NAMESPACE}/sa/${OPERATOR_NAME})
    --trust-domain <td>       SPIFFE trust domain (default ${DEFAULT_TRUST_DOMAIN})
    --token-file <path>       projected ServiceAccount token for audience weft-ca (default /var/run/secrets/weft/tokens/weft-ca)
    --root-cert <path>        roots to trust the CA with, the weft-root-ca ConfigMap (default /var/run/secrets/weft/root-ca/root-cert.pem)
    --output-dir <dir>        where cert-chain.pem, key.pem, root-cert.pem, bootstrap.json go (default /var/run/weft)
    --key-algorithm <alg>     ${KEY_ALGORITHMS.join(' | ')} (default ${DEFAULT_KEY_ALGORITHM})
    --cert-ttl <dur>          requested certificate lifetime (default: the CA's)
    --xds-address <host:port> the xDS server the bootstrap names: the agent's relay (default 127.0.0.1:15010; port 0 picks one)
    --xds-upstream <host:port> where the relay sends xDS, with TLS and the token (default: the --ca-address);
                              \`none\`: no relay (the bootstrap then names some other xDS server)
    --pod-name, --pod-ip      node id and INSTANCE_IPS (default POD_NAME / POD_IP, else the host name and 127.0.0.1)
    --label <key=value>       workload labels for node metadata (repeatable)
    --locality <r/z/s>        region/zone/subzone (default empty)
    --refresh-interval <dur>  how often gRPC re-reads the files (default 60s)
    --once                    get one certificate, write the files, exit
`;

export async function runAgentCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'ca-address': { type: 'string', default: `${OPERATOR_NAME}.${OPERATOR_NAMESPACE}.svc:${CA_PORT}` },
      'ca-identity': { type: 'string' },
      'trust-domain': { type: 'string', default: DEFAULT_TRUST_DOMAIN },
      'token-file': { type: 'string', default: '/var/run/secrets/weft/tokens/weft-ca' },
      'root-cert': { type: 'string', default: '/var/run/secrets/weft/root-ca/root-cert.pem' },
      'output-dir': { type: 'string', default: '/var/run/weft' },
      'key-algorithm': { type: 'string', default: DEFAULT_KEY_ALGORITHM },
      'cert-ttl': { type: 'string' },
      'xds-address': { type: 'string', default: '127.0.0.1:15010' },
      'xds-upstream': { type: 'string' },
      'pod-name': { type: 'string' },
      'pod-ip': { type: 'string' },
      label: { type: 'string', multiple: true, default: [] },
      locality: { type: 'string', default: '' },
      'refresh-interval': { type: 'string', default: '60s' },
      once: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const algorithm = values['key-algorithm'];
  if (!isKeyAlgorithm(algorithm)) throw new Error(`--key-algorithm: expected ${KEY_ALGORITHMS.join(' or ')}, got ${algorithm}`);
  const labels: Record<string, string> = {};
  for (const label of values.label) {
    const eq = label.indexOf('=');
    if (eq <= 0) throw new Error(`--label: expected key=value, got ${label}`);
    labels[label.slice(0, eq)] = label.slice(eq + 1);
  }
  const [region = '', zone = '', subZone = ''] = values.locality.split('/');
  const refreshMs = parseDuration(values['refresh-interval']);
  const trustDomain = values['trust-domain'];
  const log = defaultLogger().child({ component: 'agent' });
  const agent = new Agent({
    caAddress: values['ca-address'],
    caIdentity: values['ca-identity'] ?? `spiffe://${trustDomain}/ns/${OPERATOR_NAMESPACE}/sa/${OPERATOR_NAME}`,
    caServerName: `${OPERATOR_NAME}.${OPERATOR_NAMESPACE}.svc`,
    trustDomain,
    tokenFile: values['token-file'],
    rootCertFile: values['root-cert'],
    outputDir: values['output-dir'],
    keyAlgorithm: algorithm,
    certTtlSeconds: values['cert-ttl'] ? Math.round(parseDuration(values['cert-ttl']) / 1000) : 0,
    xdsAddress: values['xds-address'],
    ...(values['xds-upstream'] !== 'none' ? { xdsUpstream: values['xds-upstream'] ?? values['ca-address'] } : {}),
    podName: values['pod-name'] ?? process.env.POD_NAME ?? hostname(),
    podIp: values['pod-ip'] ?? process.env.POD_IP ?? '127.0.0.1',
    labels,
    locality: { region, zone, sub_zone: subZone },
    refreshInterval: `${Math.max(1, Math.round(refreshMs / 1000))}s`,
    once: values.once,
    log,
  });
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  log.info({ ca: values['ca-address'], outputDir: values['output-dir'] }, 'weft agent starting');
  try {
    await agent.run(abort.signal);
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
