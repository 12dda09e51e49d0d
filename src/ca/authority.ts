// The signing side of the CA: given the current intermediate (from the CA Secret) it issues workload and serving
// certificates. Pure apart from the clock passed in; every replica holds one once it has read the Secret.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { certificateExpiry, issueCertificate, prepareSigner, type PreparedSigner } from './certificate.js';
import { spiffeId, type WorkloadIdentity } from './spiffe.js';

/** What signs: the intermediate, its key, the chain up to (not including) the root, and the roots to trust. */
export interface SigningMaterial {
  certificate: X509Certificate;
  privateKey: KeyObject;
  /** PEM, the signing certificate first, then any intermediates above it; the root is not included. */
  chain: string[];
  /** PEM roots a workload should trust: the current root, plus the next or previous one during a rotation. */
  trustBundle: string[];
}

export interface ValidityPolicy {
  defaultTtlMs: number;
  maxTtlMs: number;
}

export interface IssuedCertificate {
  /** PEM, leaf first, then the intermediates. */
  certChain: string[];
  trustBundle: string[];
  notBefore: number;
  notAfter: number;
}

/** Certificates are valid from a little before issuance, so a peer whose clock lags still accepts them. */
export function backdateMs(ttlMs: number): number {
  return Math.min(60_000, Math.floor(ttlMs / 10));
}

/**
 * The lifetime to issue for a requested one (0 = the default): at most the maximum. A request for longer is
 * capped rather than refused, and the response says what was issued.
 */
export function resolveTtl(requestedMs: number, policy: ValidityPolicy): number {
  if (!Number.isFinite(requestedMs) || requestedMs < 0) throw new RangeError(`validity must be zero (the default) or positive, got ${requestedMs}`);
  return Math.min(requestedMs === 0 ? policy.defaultTtlMs : requestedMs, policy.maxTtlMs);
}

export class CertificateAuthority {
  readonly notAfter: number;
  private readonly signer: PreparedSigner;

  constructor(readonly material: SigningMaterial) {
    this.notAfter = certificateExpiry(material.certificate);
    this.signer = prepareSigner({ privateKey: material.privateKey, certificate: material.certificate });
  }

  /**
   * A workload certificate: exactly one URI SAN, the caller's SPIFFE ID; nothing from the request but the key
   * (`spki`: DER SubjectPublicKeyInfo, as a parsed CSR carries it).
   */
  issueWorkload(spki: Buffer, identity: WorkloadIdentity, ttlMs: number, now: number): IssuedCertificate {
    return this.issue(spki, { uris: [spiffeId(identity)] }, ttlMs, now);
  }

  /** A serving certificate for the operator's own TLS ports: its SPIFFE ID plus DNS names and IPs clients dial. */
  issueServing(spki: Buffer, names: { identity: WorkloadIdentity; dnsNames: string[]; ipAddresses: string[] }, ttlMs: number, now: number): IssuedCertificate {
    return this.issue(spki, { uris: [spiffeId(names.identity)], dnsNames: names.dnsNames, ipAddresses: names.ipAddresses }, ttlMs, now);
  }

  private issue(spki: Buffer, sans: { uris: string[]; dnsNames?: string[]; ipAddresses?: string[] }, ttlMs: number, now: number): IssuedCertificate {
    // A leaf never outlives its issuer: peers would reject the chain from that moment on.
    // Whole seconds: what X.509 can express, so the times reported are the certificate's own.
    const notAfter = wholeSeconds(Math.min(now + ttlMs, this.notAfter));
    if (notAfter <= now) throw new Error('the signing certificate has expired');
    const notBefore = wholeSeconds(now - backdateMs(ttlMs));
    const leaf = issueCertificate({ profile: 'leaf', spki, notBefore, notAfter, ...sans }, this.signer);
    return { certChain: [leaf, ...this.material.chain], trustBundle: this.material.trustBundle, notBefore, notAfter };
  }
}

const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;
