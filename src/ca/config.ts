// The CA's settings, their defaults, and the rules that keep rotation safe. All durations in milliseconds.
import { DEFAULT_KEY_ALGORITHM, type KeyAlgorithm } from './keys.js';
import { DEFAULT_TRUST_DOMAIN, trustDomainProblem } from './spiffe.js';

const HOUR = 3_600_000;

export interface CaConfig {
  trustDomain: string;
  /** Algorithm of the keys Weft generates for its roots, intermediates and serving certificates. */
  keyAlgorithm: KeyAlgorithm;
  rootTtlMs: number;
  intermediateTtlMs: number;
  /** Workload certificate lifetime when the request names none. */
  defaultWorkloadTtlMs: number;
  /** The longest workload certificate issued; it also sets how long rotation overlaps last. */
  maxWorkloadTtlMs: number;
  /** Audience ServiceAccount tokens must be issued for. */
  tokenAudience: string;
}

export const DEFAULT_CA_CONFIG: CaConfig = {
  trustDomain: DEFAULT_TRUST_DOMAIN,
  keyAlgorithm: DEFAULT_KEY_ALGORITHM,
  rootTtlMs: 10 * 365 * 24 * HOUR,
  intermediateTtlMs: 365 * 24 * HOUR,
  defaultWorkloadTtlMs: 24 * HOUR,
  maxWorkloadTtlMs: 7 * 24 * HOUR,
  tokenAudience: 'weft-ca',
};

/**
 * Problems with a configuration, empty when it is usable. The ratios guarantee that an intermediate renewed at
 * two thirds of its life can still issue a full-length workload certificate, and that a root renewed at two
 * thirds of its life leaves time for both phases of its rotation (distribute the new root for one maximum
 * workload lifetime, then keep trusting the old one for another).
 */
export function caConfigProblems(config: CaConfig): string[] {
  const problems: string[] = [];
  const td = trustDomainProblem(config.trustDomain);
  if (td) problems.push(td);
  const positive: Array<keyof CaConfig> = ['rootTtlMs', 'intermediateTtlMs', 'defaultWorkloadTtlMs', 'maxWorkloadTtlMs'];
  for (const key of positive) if (!((config[key] as number) > 0)) problems.push(`${key} must be positive`);
  if (config.defaultWorkloadTtlMs > config.maxWorkloadTtlMs) problems.push('the default workload TTL must not exceed the maximum');
  if (config.intermediateTtlMs < 3 * config.maxWorkloadTtlMs) problems.push('the intermediate TTL must be at least 3x the maximum workload TTL');
  if (config.rootTtlMs < 6 * config.maxWorkloadTtlMs) problems.push('the root TTL must be at least 6x the maximum workload TTL');
  if (config.intermediateTtlMs > config.rootTtlMs) problems.push('the intermediate TTL must not exceed the root TTL');
  if (!config.tokenAudience) problems.push('the token audience must not be empty');
  return problems;
}

/** Parses durations like `24h`, `90s`, `1h30m`, `500ms`, `7d` (days are a convenience; Go's syntax has none). */
export function parseDuration(text: string): number {
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR, d: 24 * HOUR };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (text.length === 0 || consumed !== text.length) throw new Error(`invalid duration ${JSON.stringify(text)} (use e.g. 24h, 90s, 1h30m)`);
  return Math.round(total);
}
