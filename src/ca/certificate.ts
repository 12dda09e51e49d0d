// Issuing X.509 certificates: node-forge lays out the ASN.1, node:crypto signs. Three profiles: a self-signed
// root, an intermediate (CA, path length 0) and a leaf for workloads and serving (SPIFFE X.509-SVID: exactly one
// URI SAN, critical when the subject is empty, serverAuth + clientAuth).
import { createHash, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { childrenOf, contentsOf, der, readTlv, bytesOf, toPem, type Asn1 } from './der.js';

export type Profile = 'root' | 'intermediate' | 'leaf';

export interface CertificateRequest {
  profile: Profile;
  /** The subject's public key as DER SubjectPublicKeyInfo (see spkiOf; a CSR carries it as is). */
  spki: Buffer;
  /** Empty for workload leaves (the identity lives in the URI SAN alone). */
  subject?: { commonName?: string; organization?: string };
  notBefore: number;
  notAfter: number;
  uris?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

/** Who signs: a CA certificate and its key, or, for a root, the root's own key. */
export interface Signer {
  privateKey: KeyObject;
  /** Absent when the certificate signs itself (a root). */
  certificate?: X509Certificate;
}

/** What signing needs from a signer, derived once: the CA signs every certificate with the same one. */
export interface PreparedSigner {
  privateKey: KeyObject;
  /** The issuer Name, bytewise as in the signer's certificate; absent for self-signed. */
  nameDer?: Buffer;
  /** The signer's key identifier; absent for self-signed (the subject's own is used). */
  keyId?: Buffer;
  algorithm: { hash: string; identifier: () => Asn1 };
}

export function prepareSigner(signer: Signer): PreparedSigner {
  const algorithm = signatureAlgorithm(signer.privateKey);
  if (!signer.certificate) return { privateKey: signer.privateKey, algorithm };
  return {
    privateKey: signer.privateKey,
    nameDer: subjectNameBytes(signer.certificate),
    keyId: keyIdentifier(spkiOf(signer.certificate.publicKey)),
    algorithm,
  };
}

export function spkiOf(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
} as const;

/** Signs `request` and returns the certificate as PEM. */
export function issueCertificate(request: CertificateRequest, signer: Signer | PreparedSigner): string {
  if (request.notAfter <= request.notBefore) throw new Error('certificate would expire before it is valid');
  const prepared = 'algorithm' in signer ? signer : prepareSigner(signer);
  const { spki } = request;
  const subject = nameOf(request.subject);
  const subjectKeyId = keyIdentifier(spki);
  const issuerName = prepared.nameDer ? der.parse(prepared.nameDer) : subject;
  const issuerKeyId = prepared.keyId ?? subjectKeyId;
  const { algorithm } = prepared;
  const tbs = der.seq(
    der.explicit(0, der.small(2)), // v3
    der.uint(serialNumber()),
    algorithm.identifier(),
    issuerName,
    der.seq(der.time(request.notBefore), der.time(request.notAfter)),
    subject,
    der.parse(spki),
    der.explicit(3, der.seq(...extensionsOf(request, subject, subjectKeyId, issuerKeyId))),
  );
  const tbsBytes = der.encode(tbs);
  const signature = sign(algorithm.hash, tbsBytes, prepared.privateKey);
  return toPem(der.encode(der.seq(der.parse(tbsBytes), algorithm.identifier(), der.bits(signature))), 'CERTIFICATE');
}

/** The AlgorithmIdentifier and hash for a signing key (RFC 5758: no parameters for ECDSA; NULL for RSA). */
export function signatureAlgorithm(key: KeyObject): { hash: string; identifier: () => Asn1 } {
  if (key.asymmetricKeyType === 'ec') {
    const p384 = key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
    return { hash: p384 ? 'sha384' : 'sha256', identifier: () => der.seq(der.oid(p384 ? OID.ecdsaWithSha384 : OID.ecdsaWithSha256)) };
  }
  if (key.asymmetricKeyType === 'rsa') return { hash: 'sha256', identifier: () => der.seq(der.oid(OID.sha256WithRsa), der.null()) };
  throw new Error(`cannot sign with a ${key.asymmetricKeyType} key`);
}

function extensionsOf(request: CertificateRequest, subject: Asn1, subjectKeyId: Buffer, authorityKeyId: Buffer): Asn1[] {
  const isCa = request.profile !== 'leaf';
  const extensions = [
    extension(OID.basicConstraints, true, isCa ? der.seq(der.bool(true), ...(request.profile === 'intermediate' ? [der.small(0)] : [])) : der.seq()),
    extension(OID.keyUsage, true, isCa ? keyUsage([0, 5, 6]) : keyUsage([0, 2])), // CA: digitalSignature, keyCertSign, cRLSign
    extension(OID.subjectKeyIdentifier, false, der.octets(subjectKeyId)),
    extension(OID.authorityKeyIdentifier, false, der.seq(der.implicit(0, authorityKeyId))),
  ];
  if (!isCa) extensions.push(extension(OID.extKeyUsage, false, der.seq(der.oid(OID.serverAuth), der.oid(OID.clientAuth))));
  const names = [
    ...(request.uris ?? []).map((uri) => der.implicit(6, Buffer.from(uri, 'ascii'))),
    ...(request.dnsNames ?? []).map((dns) => der.implicit(2, Buffer.from(dns, 'ascii'))),
    ...(request.ipAddresses ?? []).map((ip) => der.implicit(7, ipBytes(ip))),
  ];
  // RFC 5280 4.2.1.6: with an empty subject the SAN carries the identity and must be critical.
  const emptySubject = (subject.value as Asn1[]).length === 0;
  if (names.length > 0) extensions.push(extension(OID.subjectAltName, emptySubject, der.seq(...names)));
  return extensions;
}

function extension(oid: string, critical: boolean, value: Asn1): Asn1 {
  return der.seq(der.oid(oid), ...(critical ? [der.bool(true)] : []), der.octets(der.encode(value)));
}

/** A KeyUsage BIT STRING with the given bits set; DER drops trailing zero bits. */
function keyUsage(bits: number[]): Asn1 {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> (bit % 8);
  const unused = 7 - (highest % 8);
  const node = der.bits(bytes);
  node.value = String.fromCharCode(unused) + (node.value as string).slice(1);
  return node;
}

function nameOf(subject: CertificateRequest['subject']): Asn1 {
  const rdns: Asn1[] = [];
  if (subject?.organization) rdns.push(der.set(der.seq(der.oid(OID.organization), der.utf8(subject.organization))));
  if (subject?.commonName) rdns.push(der.set(der.seq(der.oid(OID.commonName), der.utf8(subject.commonName))));
  return der.seq(...rdns);
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. Identifies a key, not a security boundary. */
export function keyIdentifier(spki: Buffer): Buffer {
  const [, bitString] = childrenOf(spki, readTlv(spki));
  return createHash('sha1').update(contentsOf(spki, bitString!).subarray(1)).digest();
}

/** The subject Name of a certificate exactly as encoded: the issuer field of what it signs must match bytewise. */
function subjectNameBytes(cert: X509Certificate): Buffer {
  const raw = cert.raw;
  const [tbs] = childrenOf(raw, readTlv(raw));
  const fields = childrenOf(raw, tbs!);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version is optional
  return bytesOf(raw, fields[offset + 4]!); // serial, signature, issuer, validity, subject
}

/** 128 random bits, positive (RFC 5280 allows up to 20 octets). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes;
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  if (isIP(ip) === 6) {
    const [head = '', tail = ''] = ip.split('::');
    const groups = (s: string) => (s ? s.split(':') : []);
    const h = groups(head);
    const t = ip.includes('::') ? groups(tail) : [];
    const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
  }
  throw new Error(`not an IP address: ${ip}`);
}

/** Certificates in a PEM bundle, in order. */
export function parseCertificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

export const certificateExpiry = (cert: X509Certificate): number => Date.parse(cert.validTo);
export const certificateStart = (cert: X509Certificate): number => Date.parse(cert.validFrom);

/** The URI SANs of a certificate (Node prints them as `URI:...` in subjectAltName). */
export function uriSans(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
}
