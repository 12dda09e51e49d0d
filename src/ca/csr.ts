// PKCS#10 certificate signing requests: the agent builds one for its locally generated key; the CA parses one,
// checks the proof of possession (the request is signed by the key it carries) and takes only the public key
// from it. Whatever identity a request asks for, the CA decides the identity itself.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { signatureAlgorithm } from './certificate.js';
import { childrenOf, contentsOf, decodeOid, der, DerError, pemBlocks, readTlv, bytesOf, TAG, toPem } from './der.js';
import { publicKeyProblem } from './keys.js';

const OID = {
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
} as const;

/** Signature algorithms accepted on requests, by OID: the hash each implies. */
const REQUEST_SIGNATURES: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384', // ecdsa-with-SHA384
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

/** Requests larger than this are refused before parsing (a workload CSR is well under 2 KiB). */
export const MAX_CSR_BYTES = 16 * 1024;

/** Builds a PEM CSR for `privateKey`'s public key, asking for the given URI SANs. */
export function createCsr(keys: { privateKey: KeyObject; publicKey: KeyObject }, request: { uris?: string[] } = {}): string {
  const attributes: forge.asn1.Asn1[] = [];
  const uris = request.uris ?? [];
  if (uris.length > 0) {
    const san = der.seq(...uris.map((uri) => der.implicit(6, Buffer.from(uri, 'ascii'))));
    const extensions = der.seq(der.seq(der.oid(OID.subjectAltName), der.octets(der.encode(san))));
    attributes.push(der.seq(der.oid(OID.extensionRequest), der.set(extensions)));
  }
  const info = der.seq(
    der.small(0),
    der.seq(), // empty subject: a workload's identity is its URI SAN
    der.parse(keys.publicKey.export({ type: 'spki', format: 'der' })),
    der.implicitConstructed(0, attributes),
  );
  const infoBytes = der.encode(info);
  const algorithm = signatureAlgorithm(keys.privateKey);
  const signature = sign(algorithm.hash, infoBytes, keys.privateKey);
  return toPem(der.encode(der.seq(der.parse(infoBytes), algorithm.identifier(), der.bits(signature))), 'CERTIFICATE REQUEST');
}

export interface ParsedCsr {
  publicKey: KeyObject;
  /** The public key as the CSR carries it: DER SubjectPublicKeyInfo, what a certificate embeds. */
  spki: Buffer;
  /** URI SANs the request asks for; informational only (the CA issues the caller's identity). */
  requestedUris: string[];
}

export class CsrError extends Error {}

/** Parses and verifies a PEM CSR; throws CsrError saying what is wrong. */
export function parseCsr(pem: string): ParsedCsr {
  if (pem.length > MAX_CSR_BYTES) throw new CsrError(`CSR is ${pem.length} bytes; at most ${MAX_CSR_BYTES} are accepted`);
  const blocks = pemBlocks(pem, 'CERTIFICATE REQUEST');
  if (blocks.length !== 1) throw new CsrError(`expected one PEM block "CERTIFICATE REQUEST", found ${blocks.length}`);
  const buf = blocks[0]!;
  try {
    const top = readTlv(buf);
    if (top.tag !== TAG.SEQUENCE || top.end !== buf.length) throw new DerError('not a single DER SEQUENCE');
    const [info, algorithm, signature] = childrenOf(buf, top);
    if (!info || !algorithm || !signature || signature.tag !== TAG.BIT_STRING) throw new DerError('not a PKCS#10 CertificationRequest');
    const [, , spki, attributes] = childrenOf(buf, info);
    if (!spki || spki.tag !== TAG.SEQUENCE) throw new DerError('missing subjectPublicKeyInfo');

    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: bytesOf(buf, spki), format: 'der', type: 'spki' });
    } catch (err) {
      throw new CsrError(`unreadable public key: ${(err as Error).message}`);
    }
    const keyProblem = publicKeyProblem(publicKey);
    if (keyProblem) throw new CsrError(keyProblem);

    const algorithmOid = decodeOid(buf, childrenOf(buf, algorithm)[0]!);
    const hash = REQUEST_SIGNATURES[algorithmOid];
    if (!hash) throw new CsrError(`unsupported signature algorithm ${algorithmOid} (use ECDSA or RSA with SHA-256)`);
    const signatureBytes = contentsOf(buf, signature).subarray(1); // drop the unused-bits byte
    if (!verify(hash, bytesOf(buf, info), publicKey, signatureBytes)) {
      throw new CsrError('signature does not verify: the request was not signed by the key it carries');
    }
    return { publicKey, spki: bytesOf(buf, spki), requestedUris: attributes ? requestedUris(bytesOf(buf, attributes)) : [] };
  } catch (err) {
    if (err instanceof CsrError) throw err;
    throw new CsrError(`malformed CSR: ${(err as Error).message}`);
  }
}

/** URI SANs from the extensionRequest attribute, if any. */
function requestedUris(attributesDer: Buffer): string[] {
  const uris: string[] = [];
  const attributes = der.parse(attributesDer).value as forge.asn1.Asn1[];
  for (const attribute of attributes) {
    const [type, values] = attribute.value as forge.asn1.Asn1[];
    if (!type || forge.asn1.derToOid(type.value as string) !== OID.extensionRequest) continue;
    for (const extensions of (values?.value as forge.asn1.Asn1[]) ?? []) {
      for (const ext of extensions.value as forge.asn1.Asn1[]) {
        const parts = ext.value as forge.asn1.Asn1[];
        if (forge.asn1.derToOid(parts[0]!.value as string) !== OID.subjectAltName) continue;
        const san = forge.asn1.fromDer(parts[parts.length - 1]!.value as string);
        for (const name of san.value as forge.asn1.Asn1[]) {
          if (name.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && name.type === 6) uris.push(name.value as string);
        }
      }
    }
  }
  return uris;
}
