// Applying a planned step (see rotation.ts) to the CA state: new keys and certificates, nothing written yet.
import { X509Certificate } from 'node:crypto';
import { backdateMs } from './authority.js';
import { certificateExpiry, issueCertificate, spkiOf } from './certificate.js';
import type { CaConfig } from './config.js';
import { generateKey, parsePrivateKey, privateKeyPem } from './keys.js';
import type { PluggedCa } from './plugged.js';
import type { CaStep } from './rotation.js';
import { trustBundleOf, type CaState, type KeyedPem } from './state.js';

export async function applyStep(step: CaStep, state: CaState | undefined, plugged: PluggedCa | undefined, config: CaConfig, now: number): Promise<CaState> {
  switch (step) {
    case 'bootstrap': {
      const root = await newRoot(config, now);
      return { source: 'self-signed', root, intermediate: await newIntermediate(root, config, now), previous: [] };
    }
    case 'import-plugged':
      if (!plugged) throw new Error('import-plugged needs a valid cacerts Secret');
      return importPlugged(plugged, state, config, now);
    case 'activate-next-root': {
      const { next } = need(state, step);
      if (!next) throw new Error('no next root to activate');
      return {
        ...state!,
        root: next.root,
        intermediate: { ...next.intermediate, chain: [next.intermediate.certPem] },
        next: undefined,
        previous: [...state!.previous, { certPem: state!.root.certPem, until: overlapEnd(state!.root.certPem, config, now) }],
      };
    }
    case 'retire-previous-roots': {
      const current = need(state, step);
      return { ...current, previous: current.previous.filter((p) => p.until > now) };
    }
    case 'prepare-next-root': {
      const current = need(state, step);
      const root = await newRoot(config, now);
      const intermediate = await newIntermediate(root, config, now);
      return { ...current, next: { root, intermediate, activateAt: now + config.maxWorkloadTtlMs } };
    }
    case 'renew-intermediate': {
      const current = need(state, step);
      if (!current.root.keyPem) throw new Error('cannot renew the intermediate without the root key');
      return { ...current, intermediate: await newIntermediate({ certPem: current.root.certPem, keyPem: current.root.keyPem }, config, now) };
    }
  }
}

function need(state: CaState | undefined, step: CaStep): CaState {
  if (!state) throw new Error(`${step} needs an existing CA`);
  return state;
}

/** A root leaving the bundle stays trusted until every certificate issued under it has expired. */
function overlapEnd(rootPem: string, config: CaConfig, now: number): number {
  return Math.min(now + config.maxWorkloadTtlMs, certificateExpiry(new X509Certificate(rootPem)));
}

/**
 * Takes the user's CA. Roots trusted before but absent now stay trusted for one maximum workload lifetime, so
 * switching roots by editing cacerts breaks no connection that the previous root's certificates carry.
 */
async function importPlugged(plugged: PluggedCa, state: CaState | undefined, config: CaConfig, now: number): Promise<CaState> {
  const root = plugged.kind === 'root' ? { certPem: plugged.rootPem, keyPem: plugged.keyPem } : { certPem: plugged.rootPem };
  const intermediate =
    plugged.kind === 'root'
      ? await newIntermediate({ certPem: plugged.rootPem, keyPem: plugged.keyPem }, config, now)
      : { certPem: plugged.certPem, keyPem: plugged.keyPem, chain: plugged.chain };
  const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;
  const nowTrusted = new Set([plugged.rootPem, ...plugged.extraRootPems].map(fingerprint));
  const leaving = (state ? trustBundleOf(state, now) : []).filter((pem) => !nowTrusted.has(fingerprint(pem)));
  return {
    source: 'plugged',
    root,
    intermediate,
    previous: [
      ...plugged.extraRootPems.map((certPem) => ({ certPem, until: certificateExpiry(new X509Certificate(certPem)) })),
      ...leaving.map((certPem) => ({ certPem, until: overlapEnd(certPem, config, now) })),
    ],
  };
}

export async function newRoot(config: CaConfig, now: number): Promise<KeyedPem> {
  const keys = await generateKey(config.keyAlgorithm);
  const certPem = issueCertificate(
    {
      profile: 'root',
      spki: spkiOf(keys.publicKey),
      subject: { organization: config.trustDomain, commonName: `Weft Root CA ${stamp(now)}` },
      notBefore: now - backdateMs(config.rootTtlMs),
      notAfter: now + config.rootTtlMs,
    },
    { privateKey: keys.privateKey },
  );
  return { certPem, keyPem: privateKeyPem(keys.privateKey) };
}

/** An intermediate under `root`, never outliving it. */
export async function newIntermediate(root: KeyedPem, config: CaConfig, now: number): Promise<KeyedPem & { chain: string[] }> {
  const rootCert = new X509Certificate(root.certPem);
  const keys = await generateKey(config.keyAlgorithm);
  const certPem = issueCertificate(
    {
      profile: 'intermediate',
      spki: spkiOf(keys.publicKey),
      subject: { organization: config.trustDomain, commonName: `Weft Intermediate CA ${stamp(now)}` },
      notBefore: now - backdateMs(config.intermediateTtlMs),
      notAfter: Math.min(now + config.intermediateTtlMs, certificateExpiry(rootCert)),
    },
    { privateKey: parsePrivateKey(root.keyPem), certificate: rootCert },
  );
  return { certPem, keyPem: privateKeyPem(keys.privateKey), chain: [certPem] };
}

/** Roots and intermediates of successive rotations share a subject otherwise; a timestamp tells them apart. */
function stamp(now: number): string {
  return new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
