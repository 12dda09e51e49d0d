// WorkloadEntry validation: its identity (ServiceAccount) exists in its namespace.
import type { WorkloadEntry } from '../api/index.js';
import { selects } from './labels.js';
import type { MeshLookup } from './lookup.js';
import { verdict, type Problem, type Verdict } from './verdict.js';

export function validateWorkloadEntry(we: WorkloadEntry, lookup: MeshLookup): Verdict {
  const ns = we.metadata.namespace!;
  const problems: Problem[] = [];
  const sa = we.spec.serviceAccount;
  if (sa && !lookup.serviceAccount(ns, sa)) {
    problems.push({
      reason: 'ServiceAccountNotFound',
      field: 'spec.serviceAccount',
      message: `ServiceAccount ${ns}/${sa} not found; create it, it is the workload's mesh identity`,
    });
  }
  const services = lookup
    .serviceEntries(ns)
    .filter((se) => se.spec.workloadSelector && selects(se.spec.workloadSelector.labels, we.spec.labels))
    .map((se) => se.metadata.name);
  const member = services.length > 0 ? `endpoint of ServiceEntry ${services.join(', ')}` : 'selected by no ServiceEntry yet';
  return verdict(problems, `${we.spec.address}; ${member}`);
}
