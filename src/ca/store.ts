// Every replica's view of the CA: it reads the Secret weft-system/weft-ca through an informer and keeps a
// CertificateAuthority ready to sign. Replicas never write the Secret (the leader does, see ca-controller.ts);
// they can sign as soon as they have read it.
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Informer, Json } from '../controllers/index.js';
import { CertificateAuthority } from './authority.js';
import { CA_SECRET_NAME, signingMaterialOf } from './state.js';

export type Secret = Json<V1Secret>;

export class CaStore {
  private authority: CertificateAuthority | undefined;
  private loadedVersion: string | undefined;
  private problem = `the CA Secret ${CA_SECRET_NAME} does not exist yet (the leader creates it)`;
  private readonly listeners = new Set<(authority: CertificateAuthority) => void>();

  constructor(
    readonly namespace: string,
    informer: Informer<Secret>,
    private readonly log: Logger,
  ) {
    const update = (secret: Secret): void => {
      if (secret.metadata?.namespace === namespace && secret.metadata?.name === CA_SECRET_NAME) this.load(secret);
    };
    informer.on({ onAdd: update, onUpdate: (_old, secret) => update(secret) });
  }

  /** The authority to sign with, or undefined (see unavailableReason). */
  current(): CertificateAuthority | undefined {
    return this.authority;
  }

  /** Why there is no authority yet, for error messages. */
  unavailableReason(): string {
    return this.problem;
  }

  /** Called on every new signing material (and at once if there is one). Returns the unsubscribe function. */
  onChange(listener: (authority: CertificateAuthority) => void): () => void {
    this.listeners.add(listener);
    if (this.authority) listener(this.authority);
    return () => this.listeners.delete(listener);
  }

  private load(secret: Secret): void {
    const version = secret.metadata?.resourceVersion;
    if (version && version === this.loadedVersion) return;
    try {
      const authority = new CertificateAuthority(signingMaterialOf(secret.data));
      this.authority = authority;
      this.loadedVersion = version;
      this.log.info({ intermediate: authority.material.certificate.subject?.replace(/\n/g, ', '), notAfter: new Date(authority.notAfter).toISOString(), roots: authority.material.trustBundle.length }, 'CA signing material loaded');
      for (const listener of this.listeners) listener(authority);
    } catch (err) {
      // Keep signing with the last good material: a broken write must not stop issuance.
      this.problem = `the CA Secret ${CA_SECRET_NAME} is unusable: ${(err as Error).message}`;
      this.log.error({ err: (err as Error).message }, 'cannot load the CA Secret; keeping the previous signing material');
    }
  }
}
