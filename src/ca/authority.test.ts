import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { CertificateAuthority, resolveTtl, type SigningMaterial } from './authority.js';
import { certificateExpiry, issueCertificate, spkiOf, uriSans } from './certificate.js';
import { DEFAULT_CA_CONFIG } from './config.js';
import { createCsr, CsrError, parseCsr } from './csr.js';
import { generateKey, parsePrivateKey, type KeyAlgorithm } from './keys.js';
import { identityFromUsername, parseSpiffeId, spiffeId } from './spiffe.js';
import { newIntermediate, newRoot } from './transitions.js';

const HOUR = 3_600_000;
const now = Date.parse('2026-11-25T12:00:00Z');

async function material(algorithm: KeyAlgorithm = 'ECDSA_P256'): Promise<SigningMaterial & { rootPem: string }> {
  const config = { ...DEFAULT_CA_CONFIG, keyAlgorithm: algorithm };
  const root = await newRoot(config, now);
  const intermediate = await newIntermediate(root, config, now);
  return {
    certificate: new X509Certificate(intermediate.certPem),
    privateKey: parsePrivateKey(intermediate.keyPem),
    chain: intermediate.chain,
    trustBundle: [root.certPem],
    rootPem: root.certPem,
  };
}

/** Verifies leaf -> intermediates -> root, the way a TLS peer does. */
function chainsTo(certChain: string[], rootPem: string): boolean {
  const certs = [...certChain, rootPem].map((pem) => new X509Certificate(pem));
  return certs.every((cert, i) => i === certs.length - 1 || (cert.checkIssued(certs[i + 1]!) && cert.verify(certs[i + 1]!.publicKey)));
}

const frontend = { trustDomain: 'cluster.local', namespace: 'a', serviceAccount: 'frontend' };

describe('SPIFFE identities', () => {
  it('formats and parses spiffe://<td>/ns/<ns>/sa/<sa>', () => {
    expect(spiffeId(frontend)).toBe('spiffe://cluster.local/ns/a/sa/frontend');
    expect(parseSpiffeId('spiffe://example.org/ns/b/sa/back.end')).toEqual({ trustDomain: 'example.org', namespace: 'b', serviceAccount: 'back.end' });
  });

  it('refuses anything else', () => {
    for (const bad of ['spiffe://Cluster.local/ns/a/sa/b', 'spiffe://cluster.local/ns/a/sa/b/c', 'https://cluster.local/ns/a/sa/b', 'spiffe://cluster.local/ns/A/sa/b', 'spiffe://cluster.local/sa/b']) {
      expect(parseSpiffeId(bad)).toBeUndefined();
    }
  });

  it('maps TokenReview usernames of ServiceAccounts only', () => {
    expect(identityFromUsername('system:serviceaccount:a:frontend', 'td')).toEqual({ trustDomain: 'td', namespace: 'a', serviceAccount: 'frontend' });
    expect(identityFromUsername('system:admin', 'td')).toBeUndefined();
    expect(identityFromUsername('system:serviceaccount:a', 'td')).toBeUndefined();
  });
});

describe('issuing workload certificates', () => {
  it.each<KeyAlgorithm>(['ECDSA_P256', 'RSA_2048'])('signs a %s CSR into a SPIFFE X.509-SVID that chains to the root', async (algorithm) => {
    const ca = await material(algorithm);
    const keys = await generateKey(algorithm);
    const csr = parseCsr(createCsr(keys));
    const issued = new CertificateAuthority(ca).issueWorkload(csr.spki, frontend, HOUR, now);
    const leaf = new X509Certificate(issued.certChain[0]!);
    expect(uriSans(leaf)).toEqual(['spiffe://cluster.local/ns/a/sa/frontend']);
    expect(leaf.subject ?? '').toBe('');
    expect(leaf.ca).toBe(false);
    expect(leaf.checkPrivateKey(keys.privateKey)).toBe(true);
    expect(leaf.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(chainsTo(issued.certChain, ca.rootPem)).toBe(true);
    expect(issued.trustBundle).toEqual([ca.rootPem]);
  });

  it('issues the caller identity, not the one the CSR asks for', async () => {
    const ca = await material();
    const csrPem = createCsr(await generateKey(), { uris: ['spiffe://cluster.local/ns/kube-system/sa/admin'] });
    const csr = parseCsr(csrPem);
    expect(csr.requestedUris).toEqual(['spiffe://cluster.local/ns/kube-system/sa/admin']);
    const issued = new CertificateAuthority(ca).issueWorkload(csr.spki, frontend, HOUR, now);
    expect(uriSans(new X509Certificate(issued.certChain[0]!))).toEqual(['spiffe://cluster.local/ns/a/sa/frontend']);
  });

  it('never issues past the intermediate expiry', async () => {
    const ca = await material();
    const authority = new CertificateAuthority(ca);
    const late = authority.notAfter - HOUR;
    const issued = authority.issueWorkload(spkiOf((await generateKey()).publicKey), frontend, 24 * HOUR, late);
    expect(certificateExpiry(new X509Certificate(issued.certChain[0]!))).toBeLessThanOrEqual(authority.notAfter);
    expect(() => authority.issueWorkload(spkiOf(ca.certificate.publicKey), frontend, HOUR, authority.notAfter + 1)).toThrow(/expired/);
  });

  it('backdates a little for clock skew and lasts the TTL', async () => {
    const ca = await material();
    const issued = new CertificateAuthority(ca).issueWorkload(spkiOf((await generateKey()).publicKey), frontend, HOUR, now);
    expect(issued.notAfter - now).toBe(HOUR);
    expect(now - issued.notBefore).toBe(60_000);
  });
});

describe('validity', () => {
  const policy = { defaultTtlMs: 24 * HOUR, maxTtlMs: 48 * HOUR };
  it('uses the default for 0, caps at the maximum, refuses negatives', () => {
    expect(resolveTtl(0, policy)).toBe(24 * HOUR);
    expect(resolveTtl(HOUR, policy)).toBe(HOUR);
    expect(resolveTtl(1000 * HOUR, policy)).toBe(48 * HOUR);
    expect(() => resolveTtl(-1, policy)).toThrow(RangeError);
  });
});

describe('parsing CSRs', () => {
  it('refuses what is not a CSR, with a reason', () => {
    expect(() => parseCsr('hello')).toThrow(/expected one PEM block/);
    expect(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')).toThrow(CsrError);
    expect(() => parseCsr('x'.repeat(20_000))).toThrow(/at most/);
  });

  it('refuses a CSR whose signature does not match its key (no proof of possession)', async () => {
    const pem = createCsr(await generateKey());
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] = der[der.length - 5]! ^ 0x01; // flip a bit in the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(() => parseCsr(tampered)).toThrow(/signature does not verify|malformed/);
  });

  it('refuses weak keys', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => parseCsr(createCsr(weak))).toThrow(/at least 2048 bits/);
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    expect(() => parseCsr(createCsr(p521))).toThrow(/P-256 or P-384/);
  });
});

describe('certificate profiles', () => {
  it('marks roots and intermediates as CAs and keeps the issuer name bytewise', async () => {
    const ca = await material();
    const root = new X509Certificate(ca.rootPem);
    expect(root.ca).toBe(true);
    expect(ca.certificate.ca).toBe(true);
    expect(ca.certificate.issuer).toBe(root.subject);
    expect(ca.certificate.checkIssued(root)).toBe(true);
  });

  it('refuses to issue a certificate that expires before it starts', async () => {
    const keys = await generateKey();
    expect(() => issueCertificate({ profile: 'root', spki: spkiOf(keys.publicKey), notBefore: now, notAfter: now }, { privateKey: keys.privateKey })).toThrow();
  });
});
