// The operator's own serving certificate (CA and xDS TLS ports), issued by this replica from the CA it holds and
// handed to grpc-js as a certificate provider: renewing it, or re-issuing it when the CA's material changes,
// swaps the TLS context of the running server, with no restart and no dropped connection.
import type { experimental } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CertificateAuthority } from './authority.js';
import { spkiOf } from './certificate.js';
import { generateKey, privateKeyPem, type KeyAlgorithm } from './keys.js';
import { delayUntil, renewalTime } from './renewal.js';
import type { WorkloadIdentity } from './spiffe.js';
import type { CaStore } from './store.js';

type CertificateProvider = experimental.CertificateProvider;
type IdentityListener = experimental.IdentityCertificateUpdateListener;
type CaListener = experimental.CaCertificateUpdateListener;

export interface ServingCertificateOptions {
  identity: WorkloadIdentity;
  dnsNames: string[];
  ipAddresses: string[];
  ttlMs: number;
  keyAlgorithm: KeyAlgorithm;
  log: Logger;
  onIssued?: (notAfter: number) => void;
  now?: () => number;
}

export class ServingCertificate implements CertificateProvider {
  private identity: experimental.IdentityCertificateUpdate | undefined;
  private roots: experimental.CaCertificateUpdate | undefined;
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();
  private timer: NodeJS.Timeout | undefined;
  private issuing: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private markIssued: () => void = () => {};
  private readonly firstIssued = new Promise<void>((resolve) => (this.markIssued = resolve));

  constructor(
    private readonly store: CaStore,
    private readonly options: ServingCertificateOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Issues now (once the CA is readable) and keeps the certificate fresh until `signal` aborts. */
  start(signal: AbortSignal): void {
    const unsubscribe = this.store.onChange((authority) => this.reissue(authority));
    signal.addEventListener('abort', () => {
      unsubscribe();
      clearTimeout(this.timer);
    }, { once: true });
  }

  /** Resolves true once a certificate is in place, or false if `signal` aborts first. */
  ready(signal?: AbortSignal): Promise<boolean> {
    if (this.identity) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      signal?.addEventListener('abort', () => resolve(false), { once: true });
      void this.firstIssued.then(() => resolve(true));
    });
  }

  private reissue(authority: CertificateAuthority): void {
    // Serialized: a CA change during key generation must not leave an older certificate installed last.
    this.issuing = this.issuing.then(() => this.issue(authority)).catch((err: unknown) => {
      this.options.log.error({ err: (err as Error).message }, 'cannot issue the serving certificate; retrying in 10 s');
      this.schedule(this.now() + 10_000);
    });
  }

  private async issue(authority: CertificateAuthority): Promise<void> {
    const keys = await generateKey(this.options.keyAlgorithm);
    const { identity, dnsNames, ipAddresses, ttlMs } = this.options;
    const issued = authority.issueServing(spkiOf(keys.publicKey), { identity, dnsNames, ipAddresses }, ttlMs, this.now());
    this.identity = { certificate: Buffer.from(issued.certChain.join('')), privateKey: Buffer.from(privateKeyPem(keys.privateKey)) };
    this.roots = { caCertificate: Buffer.from(issued.trustBundle.join('')) };
    this.markIssued();
    for (const listener of this.identityListeners) listener(this.identity);
    for (const listener of this.caListeners) listener(this.roots);
    this.options.onIssued?.(issued.notAfter);
    const renewAt = renewalTime(issued.notBefore, issued.notAfter);
    this.options.log.info({ notAfter: new Date(issued.notAfter).toISOString(), renewAt: new Date(renewAt).toISOString() }, 'serving certificate issued');
    this.schedule(renewAt);
  }

  private schedule(at: number): void {
    clearTimeout(this.timer);
    const delay = delayUntil(at, this.now());
    this.timer = setTimeout(() => {
      const authority = this.store.current();
      // A capped delay (long lifetimes) wakes early: only renew once the time has come.
      if (this.now() < at) return this.schedule(at);
      if (authority) this.reissue(authority);
    }, delay);
    this.timer.unref();
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    if (this.identity) process.nextTick(listener, this.identity);
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  /** The mesh roots, for servers that also verify client certificates. */
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    if (this.roots) process.nextTick(listener, this.roots);
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }
}
