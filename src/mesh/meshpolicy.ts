// MeshPolicy validation. Policies compose across scopes (workload > namespace > mesh); within one scope the
// oldest policy owns each of mtls, rateLimit and telemetry, and a newer one setting the same field is refused.
// Authorization rules from every policy in scope apply together, so they never conflict.
import { ROOT_NAMESPACE, type MeshPolicy } from '../api/index.js';
import { labelsKey } from './labels.js';
import type { MeshLookup } from './lookup.js';
import { olderFirst, refOf, verdict, type Problem, type Verdict } from './verdict.js';

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
  return verdict(problems, `applies to ${scopeName(policy)}`);
}

export function scopeName(policy: MeshPolicy): string {
  const selector = policy.spec.selector?.matchLabels;
  const where = policy.metadata.namespace === ROOT_NAMESPACE ? 'the whole mesh' : `namespace ${policy.metadata.namespace}`;
  return selector && Object.keys(selector).length > 0 ? `workloads labelled ${labelsKey(selector)} in ${where}` : where;
}
