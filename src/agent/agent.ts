// `weft agent`: runs beside a workload and keeps its mesh identity fresh. Each round it generates a new key
// locally (the key never leaves the workload), sends a CSR with the workload's ServiceAccount token, writes
// cert/key/roots atomically where gRPC's file_watcher reads them, writes the xDS bootstrap, and sleeps until
// half the certificate's life (jittered). Roots come back with every certificate, so a root rotation reaches
// the workload at its next renewal.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { status } from '@grpc/grpc-js';
import { uriSans } from '../ca/certificate.js';
import { createCsr } from '../ca/csr.js';
import { generateKey, privateKeyPem, type KeyAlgorithm } from '../ca/keys.js';
import { delayUntil, renewalTime } from '../ca/renewal.js';
import { identityFromUsername, parseSpiffeId, spiffeId } from '../ca/spiffe.js';
import { Backoff, sleep } from '../controllers/backoff.js';
import { BOOTSTRAP_FILE, grpcBootstrap, nodeIdFor } from './bootstrap.js';
import { CaClient, CaRequestError } from './ca-client.js';
import { writeCredentials, writeFileAtomic } from './files.js';
import { XdsRelay } from './xds-relay.js';

export interface AgentOptions {
  caAddress: string;
  /** The SPIFFE ID the CA server must present. */
  caIdentity: string;
  /** The CA's DNS name, sent as SNI when caAddress is an IP. */
  caServerName: string;
  trustDomain: string;
  /** A projected ServiceAccount token for the CA's audience; re-read every round (the kubelet rotates it). */
  tokenFile: string;
  /** The first roots to trust the CA with (the weft-root-ca ConfigMap); later ones come with each certificate. */
  rootCertFile: string;
  outputDir: string;
  keyAlgorithm: KeyAlgorithm;
  /** Requested lifetime in seconds; 0 for the CA's default. */
  certTtlSeconds: number;
  /** Where the workload's xDS client connects (the bootstrap's server_uri); port 0 picks one for the relay. */
  xdsAddress: string;
  /** Relay xDS from xdsAddress to this upstream (the operator's TLS port); absent: the bootstrap points elsewhere. */
  xdsUpstream?: string;
  podName: string;
  podIp: string;
  labels: Record<string, string>;
  locality: { region: string; zone: string; sub_zone: string };
  /** file_watcher refresh interval, e.g. "60s". */
  refreshInterval: string;
  /** Get one certificate, write the files, and return (init containers, scripts). */
  once: boolean;
  log: Logger;
}

/** What the agent holds after a successful round. */
export interface Issued {
  identity: string;
  notBefore: number;
  notAfter: number;
  rootsPem: string;
}

/** Refusals retrying cannot fix until something changes (a new token, a fixed CSR): fail fast with --once. */
const PERMANENT = new Set([status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.INVALID_ARGUMENT]);

export class Agent {
  private client: CaClient | undefined;
  private relay: XdsRelay | undefined;
  private xdsAddress: string;
  private bootstrapWritten = '';

  constructor(private readonly options: AgentOptions) {
    this.xdsAddress = options.xdsAddress;
  }

  /** Runs until `signal` aborts (or after one certificate with `once`). Rejects only in `once` mode. */
  async run(signal: AbortSignal): Promise<void> {
    const roots = await readFile(this.options.rootCertFile, 'utf8');
    const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
    try {
      if (this.options.xdsUpstream && !this.options.once) await this.startRelay(this.options.xdsUpstream);
      await this.loop(roots, backoff, signal);
    } finally {
      this.client?.close();
      this.relay?.stop();
    }
  }

  private async startRelay(upstream: string): Promise<void> {
    this.relay = new XdsRelay({
      listen: this.options.xdsAddress,
      upstream,
      upstreamIdentity: this.options.caIdentity,
      upstreamServerName: this.options.caServerName,
      tokenFile: this.options.tokenFile,
      log: this.options.log,
    });
    const port = await this.relay.listen();
    this.xdsAddress = this.options.xdsAddress.replace(/:\d+$/, `:${port}`);
    this.options.log.info({ listen: this.xdsAddress, upstream }, 'xDS relay listening');
  }

  private async loop(initialRoots: string, backoff: Backoff, signal: AbortSignal): Promise<void> {
    const { log } = this.options;
    let roots = initialRoots;
    while (!signal.aborted) {
      let issued: Issued;
      try {
        issued = await this.renew(roots);
      } catch (err) {
        const permanent = err instanceof CaRequestError && PERMANENT.has(err.code);
        if (this.options.once && permanent) throw err;
        const delay = backoff.next();
        log.error({ err: (err as Error).message, retryInMs: Math.round(delay) }, 'cannot get a certificate');
        await sleep(delay, signal);
        continue;
      }
      backoff.reset();
      roots = issued.rootsPem;
      this.relay?.setRoots(roots);
      if (this.options.once) return;
      const renewAt = renewalTime(issued.notBefore, issued.notAfter);
      log.info({ identity: issued.identity, notAfter: new Date(issued.notAfter).toISOString(), renewAt: new Date(renewAt).toISOString() }, 'certificate written');
      // Long lifetimes sleep in capped steps (Node timers are 32-bit).
      while (!signal.aborted && Date.now() < renewAt) await sleep(delayUntil(renewAt, Date.now()), signal);
    }
  }

  /** One round: key, CSR, certificate, files, bootstrap. */
  async renew(rootsPem: string): Promise<Issued> {
    const token = (await readFile(this.options.tokenFile, 'utf8')).trim();
    const expected = expectedIdentity(token, this.options.trustDomain);
    const keys = await generateKey(this.options.keyAlgorithm);
    const csr = createCsr(keys, expected ? { uris: [expected] } : {});
    const response = await this.caClient(rootsPem).createCertificate(csr, this.options.certTtlSeconds, token);

    const leaf = new X509Certificate(response.cert_chain[0] ?? '');
    if (!leaf.checkPrivateKey(keys.privateKey)) throw new Error('the CA returned a certificate for another key');
    const identity = uriSans(leaf)[0] ?? '';
    if (expected && identity !== expected) {
      this.options.log.warn({ expected, issued: identity }, 'identity mismatch: the CA issued another identity than the token names');
    }
    const newRoots = response.trust_bundle.join('');
    await writeCredentials(this.options.outputDir, { certChainPem: response.cert_chain.join(''), keyPem: privateKeyPem(keys.privateKey), rootsPem: newRoots });
    await this.writeBootstrap(identity);
    return { identity, notBefore: response.not_before * 1000, notAfter: response.not_after * 1000, rootsPem: newRoots };
  }

  /** The client for the current roots: a root rotation hands us new roots, and the next call must use them. */
  private caClient(rootsPem: string): CaClient {
    if (this.client?.options.rootsPem !== rootsPem) {
      this.client?.close();
      this.client = new CaClient({ address: this.options.caAddress, rootsPem, serverIdentity: this.options.caIdentity, serverName: this.options.caServerName });
    }
    return this.client;
  }

  private async writeBootstrap(identity: string): Promise<void> {
    const workload = parseSpiffeId(identity);
    const namespace = workload?.namespace ?? 'default';
    const bootstrap = grpcBootstrap({
      xdsServer: this.xdsAddress,
      credentialsDir: this.options.outputDir,
      nodeId: nodeIdFor(this.options.podIp, this.options.podName, namespace),
      locality: this.options.locality,
      metadata: {
        GENERATOR: 'grpc',
        NAMESPACE: namespace,
        SERVICE_ACCOUNT: workload?.serviceAccount ?? '',
        SPIFFE_ID: identity,
        INSTANCE_IPS: this.options.podIp,
        LABELS: this.options.labels,
      },
      refreshInterval: this.options.refreshInterval,
    });
    const text = JSON.stringify(bootstrap, null, 2) + '\n';
    if (text === this.bootstrapWritten) return;
    await writeFileAtomic(join(this.options.outputDir, BOOTSTRAP_FILE), text);
    this.bootstrapWritten = text;
  }
}

/** The identity the token names (its unverified `sub`), to ask for and to compare with what is issued. */
export function expectedIdentity(token: string, trustDomain: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string };
    const workload = claims.sub ? identityFromUsername(claims.sub, trustDomain) : undefined;
    return workload ? spiffeId(workload) : undefined;
  } catch {
    return undefined;
  }
}
