// The traffic policy in force for one cluster (a port, and optionally a subset, of a service). Like Istio, each
// of loadBalancer, connectionPool, outlierDetection, tls and retryBudget comes from the most specific level that sets it:
// subset port-level, subset, rule port-level, rule.
import type { Subset, TrafficPolicy } from '../../api/index.js';
import type { ServiceModel } from '../../mesh/model/index.js';

export type EffectivePolicy = Pick<TrafficPolicy, 'loadBalancer' | 'connectionPool' | 'outlierDetection' | 'tls' | 'retryBudget'>;

// retryBudget is set on a rule or a subset only (Istio has no port-level retry budget).
const FIELDS = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls', 'retryBudget'] as const;

function atPort(policy: TrafficPolicy | undefined, port: number): EffectivePolicy | undefined {
  return policy?.portLevelSettings?.find((p) => p.port.number === port);
}

export function effectivePolicy(service: ServiceModel, port: number, subsetName?: string): EffectivePolicy {
  const rule = service.policy?.trafficPolicy;
  const subset: Subset | undefined = subsetName ? service.policy?.subsets.find((s) => s.name === subsetName) : undefined;
  const levels = [rule, atPort(rule, port), subset?.trafficPolicy, atPort(subset?.trafficPolicy, port)];
  const out: EffectivePolicy = {};
  for (const level of levels) {
    if (!level) continue;
    for (const field of FIELDS) if (level[field] !== undefined) (out as Record<string, unknown>)[field] = level[field];
  }
  return out;
}

/** The header a consistent-hash policy hashes on, if that is what it does. */
export function hashHeader(policy: EffectivePolicy): string | undefined {
  return policy.loadBalancer?.consistentHash?.httpHeaderName;
}
