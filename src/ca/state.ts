// The CA's state as stored in the Secret weft-system/weft-ca, and its codec. Only the leader writes it; every
// replica reads it to sign. Key names follow Istio's cacerts where the meaning is the same.
//
//   ca-cert.pem, ca-key.pem   the signing (intermediate) certificate and key
//   cert-chain.pem            ca-cert.pem plus any intermediates above it, not the root
//   root-cert.pem             the current root; root-key.pem when Weft holds the root's key
//   next-*.pem                during a root rotation: the next root and intermediate, trusted but not yet signing
//   trust-bundle.pem          every root to trust now (current, next, previous): what workloads get
//   rotation.json             source, when the next root takes over, previous roots and until when they stay trusted
import { createHash, X509Certificate } from 'node:crypto';
import type { SigningMaterial } from './authority.js';
import { parseCertificates } from './certificate.js';
import { parsePrivateKey } from './keys.js';

export const CA_SECRET_NAME = 'weft-ca';
/** The user's own CA (Istio's plug-in format), read only by the leader and copied into weft-ca. */
export const PLUGGED_SECRET_NAME = 'cacerts';

/** Where the CA's material came from: Weft's own root, or the user's `cacerts` Secret. */
export type CaSource = 'self-signed' | 'plugged';

export interface KeyedPem {
  certPem: string;
  keyPem: string;
}

export interface CaState {
  source: CaSource;
  /** The root above the intermediate. Its key is present when Weft may sign intermediates with it. */
  root: { certPem: string; keyPem?: string };
  intermediate: KeyedPem & { chain: string[] };
  /** A root rotation in progress: trusted by everyone already, signing from `activateAt` on. */
  next?: { root: KeyedPem; intermediate: KeyedPem; activateAt: number };
  /** Former roots, still trusted until `until`, so the certificates they issued stay valid to their end. */
  previous: Array<{ certPem: string; until: number }>;
  /** sha256 of the cacerts Secret's data this state was imported from (plugged only): a change means re-import. */
  pluggedDigest?: string;
}

/** Every root a workload must trust now. Current first, then the next, then previous ones; no duplicates. */
export function trustBundleOf(state: CaState, now: number): string[] {
  const roots = [state.root.certPem, ...(state.next ? [state.next.root.certPem] : []), ...state.previous.filter((p) => p.until > now).map((p) => p.certPem)];
  return dedupeCertificates(roots);
}

/** Splits PEM bundles into single certificates and drops repeats (same DER). */
export function dedupeCertificates(pems: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const cert of pems.flatMap((pem) => parseCertificates(pem))) {
    const fingerprint = cert.fingerprint256;
    if (seen.has(fingerprint)) continue;
    seen.add(fingerprint);
    out.push(cert.toString());
  }
  return out;
}

interface RotationJson {
  source: CaSource;
  nextActivateAt?: string;
  previousRoots?: Array<{ until: string; cert: string }>;
  pluggedDigest?: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string | undefined => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

/** Secret `data` (base64) for a state. `now` decides which previous roots are still in the trust bundle. */
export function encodeState(state: CaState, now: number): Record<string, string> {
  const rotation: RotationJson = {
    source: state.source,
    ...(state.next ? { nextActivateAt: new Date(state.next.activateAt).toISOString() } : {}),
    previousRoots: state.previous.map((p) => ({ until: new Date(p.until).toISOString(), cert: p.certPem })),
    ...(state.pluggedDigest ? { pluggedDigest: state.pluggedDigest } : {}),
  };
  const files: Record<string, string> = {
    'ca-cert.pem': state.intermediate.certPem,
    'ca-key.pem': state.intermediate.keyPem,
    'cert-chain.pem': state.intermediate.chain.join(''),
    'root-cert.pem': state.root.certPem,
    'trust-bundle.pem': trustBundleOf(state, now).join(''),
    'rotation.json': JSON.stringify(rotation, null, 2) + '\n',
  };
  if (state.root.keyPem) files['root-key.pem'] = state.root.keyPem;
  if (state.next) {
    files['next-root-cert.pem'] = state.next.root.certPem;
    files['next-root-key.pem'] = state.next.root.keyPem;
    files['next-ca-cert.pem'] = state.next.intermediate.certPem;
    files['next-ca-key.pem'] = state.next.intermediate.keyPem;
  }
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64(v)]));
}

export class CaStateError extends Error {}

/** Reads a state from Secret `data`; throws CaStateError naming the missing or broken key. */
export function decodeState(data: Record<string, string> | undefined): CaState {
  const file = (name: string): string => {
    const value = unb64(data?.[name]);
    if (!value) throw new CaStateError(`Secret ${CA_SECRET_NAME} has no ${name}`);
    return value;
  };
  const optional = (name: string): string | undefined => unb64(data?.[name]) || undefined;
  let rotation: RotationJson;
  try {
    rotation = JSON.parse(file('rotation.json')) as RotationJson;
  } catch (err) {
    throw err instanceof CaStateError ? err : new CaStateError(`Secret ${CA_SECRET_NAME}: rotation.json is not JSON`);
  }
  const nextRoot = optional('next-root-cert.pem');
  const state: CaState = {
    source: rotation.source === 'plugged' ? 'plugged' : 'self-signed',
    root: { certPem: file('root-cert.pem'), ...(optional('root-key.pem') ? { keyPem: optional('root-key.pem')! } : {}) },
    intermediate: { certPem: file('ca-cert.pem'), keyPem: file('ca-key.pem'), chain: splitPem(file('cert-chain.pem')) },
    previous: (rotation.previousRoots ?? []).map((p) => ({ certPem: p.cert, until: Date.parse(p.until) })),
    ...(rotation.pluggedDigest ? { pluggedDigest: rotation.pluggedDigest } : {}),
  };
  if (nextRoot && rotation.nextActivateAt) {
    state.next = {
      root: { certPem: nextRoot, keyPem: file('next-root-key.pem') },
      intermediate: { certPem: file('next-ca-cert.pem'), keyPem: file('next-ca-key.pem') },
      activateAt: Date.parse(rotation.nextActivateAt),
    };
  }
  return state;
}

/**
 * What a replica signs with: parsed from the Secret. The trust bundle is the stored one (written by the leader),
 * so every replica hands out the same roots.
 */
export function signingMaterialOf(data: Record<string, string> | undefined): SigningMaterial {
  const state = decodeState(data);
  const certificate = new X509Certificate(state.intermediate.certPem);
  const privateKey = parsePrivateKey(state.intermediate.keyPem);
  if (!certificate.checkPrivateKey(privateKey)) throw new CaStateError(`Secret ${CA_SECRET_NAME}: ca-key.pem does not match ca-cert.pem`);
  const bundle = unb64(data?.['trust-bundle.pem']) ?? state.root.certPem;
  return { certificate, privateKey, chain: state.intermediate.chain, trustBundle: splitPem(bundle) };
}

export function splitPem(pem: string): string[] {
  return parseCertificates(pem).map((c) => c.toString());
}

/** A digest of Secret data, to notice when the user changed cacerts. */
export function digestOf(data: Record<string, string> | undefined): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data ?? {}).sort()) hash.update(key).update('\0').update(data![key]!).update('\0');
  return hash.digest('hex');
}
