// When the CA changes, as a pure function of its state, the configuration and the clock: the leader asks for
// the next step, applies it, writes the Secret, and asks again (the write wakes it), or sleeps until checkAt.
//
// Root rotation keeps every connection working: a new root is first only *trusted* (added to every bundle)
// for one maximum workload lifetime, so all holders renew and learn it; then it signs, and the old root stays
// trusted for another maximum workload lifetime, until every certificate it issued has expired.
//
//   2/3 of root life      prepare-next-root     bundle = old + new, old intermediate signs
//   + maxWorkloadTtl      activate-next-root    bundle = new + old, new intermediate signs
//   + maxWorkloadTtl      retire-previous-roots bundle = new
//
// Intermediates renew at 2/3 of their life under the same root; the bundle does not change.
import { X509Certificate } from 'node:crypto';
import { certificateExpiry, certificateStart } from './certificate.js';
import type { CaConfig } from './config.js';
import type { CaState } from './state.js';

export type CaStep = 'bootstrap' | 'import-plugged' | 'activate-next-root' | 'retire-previous-roots' | 'prepare-next-root' | 'renew-intermediate';

export interface CaPlan {
  /** The step due now, if any. */
  step?: CaStep;
  /** Why, for logs and Events. */
  reason: string;
  /** When something will next be due (absent: nothing scheduled). */
  checkAt?: number;
}

export interface CaInputs {
  state?: CaState;
  /** Digest of a valid cacerts Secret's data; absent when there is none (or it is invalid). */
  pluggedDigest?: string;
}

/** The moment at `fraction` of a certificate's lifetime. */
export function pointInLife(cert: X509Certificate, fraction: number): number {
  const start = certificateStart(cert);
  return start + Math.floor((certificateExpiry(cert) - start) * fraction);
}

export const RENEW_AT_FRACTION = 2 / 3;

export function planCa({ state, pluggedDigest }: CaInputs, config: CaConfig, now: number): CaPlan {
  if (!state) {
    return pluggedDigest
      ? { step: 'import-plugged', reason: 'the cacerts Secret supplies the CA' }
      : { step: 'bootstrap', reason: 'no CA yet: creating a self-signed root and intermediate' };
  }
  if (pluggedDigest && pluggedDigest !== state.pluggedDigest) return { step: 'import-plugged', reason: 'the cacerts Secret changed' };

  const root = new X509Certificate(state.root.certPem);
  const intermediate = new X509Certificate(state.intermediate.certPem);
  const rootExpiry = certificateExpiry(root);
  if (state.source === 'self-signed' && rootExpiry <= now) {
    return { step: 'bootstrap', reason: `the root expired at ${root.validTo} (was the operator down?): starting over with a new root` };
  }
  if (state.next && now >= state.next.activateAt) return { step: 'activate-next-root', reason: 'the next root has been trusted for a full workload lifetime' };
  if (state.previous.some((p) => p.until <= now)) return { step: 'retire-previous-roots', reason: 'a previous root has outlived every certificate it issued' };

  const due: number[] = [];
  if (state.next) due.push(state.next.activateAt);
  for (const p of state.previous) due.push(p.until);

  if (state.source === 'self-signed' && !state.next) {
    const rootRenewAt = pointInLife(root, RENEW_AT_FRACTION);
    if (now >= rootRenewAt) return { step: 'prepare-next-root', reason: `the root expires at ${root.validTo}` };
    due.push(rootRenewAt);
  }
  // Renewing helps only if the new intermediate would outlive the current one (the root caps both).
  const renewalExtends = state.root.keyPem !== undefined && Math.min(now + config.intermediateTtlMs, rootExpiry) > certificateExpiry(intermediate) + 1000;
  if (state.root.keyPem !== undefined) {
    const intermediateRenewAt = pointInLife(intermediate, RENEW_AT_FRACTION);
    if (now >= intermediateRenewAt && renewalExtends) return { step: 'renew-intermediate', reason: `the intermediate expires at ${intermediate.validTo}` };
    if (now < intermediateRenewAt) due.push(intermediateRenewAt);
  }
  const future = due.filter((t) => t > now);
  return { reason: 'up to date', ...(future.length > 0 ? { checkAt: Math.min(...future) } : {}) };
}
