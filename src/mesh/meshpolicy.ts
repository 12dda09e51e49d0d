// MeshPolicy validation. Policies compose across scopes (workload > namespace > mesh); within one scope the
// oldest policy owns each of mtls, rateLimit and telemetry, and a newer one setting the same field is refused.
// Authorization rules from every policy in scope apply together, so they never conflict.
// The Accepted message says what the proxies can do with it: proxyless gRPC has no xDS for rate limits, access
// logs or tracing, so those reach Envoy sidecars only.
import { ROOT_NAMESPACE, type MeshPolicy } from '../api/index.js';
import { labelsKey } from './labels.js';
import type { MeshLookup } from './lookup.js';
import { olderFirst, refOf, verdict, type Problem, type Verdict } from './verdict.js';

/** Tracing providers the Envoy generator configures (src/xds/generators/telemetry.ts); the first is the default. */
export const TRACING_PROVIDERS = ['opentelemetry', 'zipkin'] as const;

const EXCLUSIVE_FIELDS = ['mtls', 'rateLimit', 'telemetry'] as const;

export function validateMeshPolicy(policy: MeshPolicy, lookup: MeshLookup): Verdict {
  const scope = labelsKey(policy.spec.selector?.matchLabels);
  const older = lookup
    .meshPolicies(policy.metadata.namespace!)
    .filter((o) => refOf(o) !== refOf(policy) && labelsKey(o.spec.selector?.matchLabels) === scope && olderFirst(o, policy) < 0)
    .sort(olderFirst);
  const problems: Problem[] = [];
  for (const field of EXCLUSIVE_FIELDS) {
    if (policy.spec[field] === undefined) continue;
    const owner = older.find((o) => o.spec[field] !== undefined);
    if (owner) {
      problems.push({
        reason: 'Conflict',
        field: `spec.${field}`,
        message: `MeshPolicy ${refOf(owner)} is older and already sets ${field} for the same ${scopeName(policy)}`,
      });
    }
  }
  const tracing = policy.spec.telemetry?.tracing;
  if (tracing?.provider !== undefined && !(TRACING_PROVIDERS as readonly string[]).includes(tracing.provider)) {
    problems.push({
      reason: 'UnsupportedValue',
      field: 'spec.telemetry.tracing.provider',
      message: `tracing provider "${tracing.provider}" is not supported: use ${TRACING_PROVIDERS.join(' or ')}`,
    });
  }
  const notes = [`applies to ${scopeName(policy)}`];
  const envoyOnly = (['rateLimit', 'telemetry'] as const).filter((f) => policy.spec[f] !== undefined);
  if (envoyOnly.length > 0) {
    const many = envoyOnly.length > 1;
    notes.push(`${envoyOnly.join(' and ')} ${many ? 'apply' : 'applies'} to Envoy sidecars only: proxyless gRPC clients cannot enforce ${many ? 'them' : 'it'}`);
  }
  // The schema lets endpoint be left out; without it there is nowhere to send spans. Said, not refused: a
  // telemetry gap must not take the policy's mtls and authorization out of force.
  if (tracing && tracing.endpoint === undefined) notes.push('spec.telemetry.tracing has no endpoint, so nothing is traced');
  return verdict(problems, notes.join('; '));
}

export function scopeName(policy: MeshPolicy): string {
  const selector = policy.spec.selector?.matchLabels;
  const where = policy.metadata.namespace === ROOT_NAMESPACE ? 'the whole mesh' : `namespace ${policy.metadata.namespace}`;
  return selector && Object.keys(selector).length > 0 ? `workloads labelled ${labelsKey(selector)} in ${where}` : where;
}
