// A user-supplied CA in Istio's `cacerts` format (Secret weft-system/cacerts):
//   ca-cert.pem, ca-key.pem   the CA certificate Weft signs with (an intermediate), or a root Weft signs its own
//                             intermediates with
//   root-cert.pem             the root(s) to trust; several during the user's own root rotation
//   cert-chain.pem            optional: ca-cert.pem and the intermediates above it (a trailing root is ignored)
// Validation says exactly what is wrong, because a broken plug-in CA must never silently fall back to another root.
import { X509Certificate } from 'node:crypto';
import { certificateExpiry, parseCertificates } from './certificate.js';
import { parsePrivateKey } from './keys.js';
import { PLUGGED_SECRET_NAME } from './state.js';

export interface PluggedCa {
  /** `root`: ca-cert is self-signed and Weft issues intermediates under it. `intermediate`: Weft signs with it. */
  kind: 'root' | 'intermediate';
  certPem: string;
  keyPem: string;
  /** For `intermediate`: ca-cert first, then intermediates up to (not including) the root. */
  chain: string[];
  /** The root the chain ends at. */
  rootPem: string;
  /** Further roots listed in root-cert.pem, trusted alongside. */
  extraRootPems: string[];
}

export class PluggedCaError extends Error {}

const isSelfSigned = (cert: X509Certificate): boolean => cert.subject === cert.issuer && cert.verify(cert.publicKey);

export function readPluggedCa(data: Record<string, string> | undefined, now: number): PluggedCa {
  const where = `Secret ${PLUGGED_SECRET_NAME}`;
  const file = (name: string): string | undefined => {
    const value = data?.[name];
    return value ? Buffer.from(value, 'base64').toString('utf8') : undefined;
  };
  const certPem = file('ca-cert.pem');
  const keyPem = file('ca-key.pem');
  if (!certPem || !keyPem) throw new PluggedCaError(`${where} must hold ca-cert.pem and ca-key.pem`);

  const [cert] = parseCertificates(certPem);
  if (!cert) throw new PluggedCaError(`${where}: ca-cert.pem holds no PEM certificate`);
  let key;
  try {
    key = parsePrivateKey(keyPem);
  } catch (err) {
    throw new PluggedCaError(`${where}: ca-key.pem is not a readable private key (${(err as Error).message})`);
  }
  if (!cert.ca) throw new PluggedCaError(`${where}: ca-cert.pem is not a CA certificate (basicConstraints CA:TRUE is missing)`);
  if (!cert.checkPrivateKey(key)) throw new PluggedCaError(`${where}: ca-key.pem does not belong to ca-cert.pem`);
  if (certificateExpiry(cert) <= now) throw new PluggedCaError(`${where}: ca-cert.pem expired at ${cert.validTo}`);

  const rootsPem = file('root-cert.pem');
  const roots = rootsPem ? parseCertificates(rootsPem) : [];
  if (isSelfSigned(cert)) {
    const extra = roots.filter((r) => r.fingerprint256 !== cert.fingerprint256);
    return { kind: 'root', certPem: cert.toString(), keyPem, chain: [], rootPem: cert.toString(), extraRootPems: extra.map((r) => r.toString()) };
  }
  if (roots.length === 0) throw new PluggedCaError(`${where}: root-cert.pem is required when ca-cert.pem is an intermediate`);

  const chainPem = file('cert-chain.pem');
  let chain = (chainPem ? parseCertificates(chainPem) : [cert]).filter((c) => !isSelfSigned(c));
  if (chain[0]?.fingerprint256 !== cert.fingerprint256) chain = [cert, ...chain];
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) {
      throw new PluggedCaError(`${where}: cert-chain.pem is out of order: certificate ${i + 1} (${chain[i]!.subject}) is not signed by the next one`);
    }
  }
  const top = chain[chain.length - 1]!;
  const root = roots.find((r) => top.checkIssued(r) && top.verify(r.publicKey));
  if (!root) throw new PluggedCaError(`${where}: no certificate in root-cert.pem signed ${top.subject.replace(/\n/g, ', ')}`);
  return {
    kind: 'intermediate',
    certPem: cert.toString(),
    keyPem,
    chain: chain.map((c) => c.toString()),
    rootPem: root.toString(),
    extraRootPems: roots.filter((r) => r !== root).map((r) => r.toString()),
  };
}
