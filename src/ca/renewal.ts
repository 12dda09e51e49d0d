// When a certificate holder renews: at half of the certificate's lifetime, jittered by +/-5% of it so a fleet
// issued at the same moment (a rollout, a root rotation) does not come back at the same moment. Used by the agent
// for workload certificates and by the operator for its own serving certificate.

export const RENEW_FRACTION = 0.5;
export const RENEW_JITTER = 0.05;

/** `random` in [0, 1); injected for tests. */
export function renewalTime(notBefore: number, notAfter: number, random: () => number = Math.random): number {
  const life = notAfter - notBefore;
  return notBefore + Math.floor(life * (RENEW_FRACTION - RENEW_JITTER + 2 * RENEW_JITTER * random()));
}

/** Delay until `at` from `now`, never negative, and capped so Node's timers (32-bit ms) cannot overflow. */
export function delayUntil(at: number, now: number, maxMs = 3_600_000): number {
  return Math.max(0, Math.min(at - now, maxMs));
}
