// WorkloadEntry validation: its identity (ServiceAccount) exists in its namespace.
import { MESH_LABEL_PATTERN, type WorkloadEntry } from '../api/index.js';
import { selects } from './labels.js';
import type { MeshLookup } from './lookup.js';
import { verdict, type Problem, type Verdict } from './verdict.js';

export function validateWorkloadEntry(we: WorkloadEntry, lookup: MeshLookup): Verdict {
  const ns = we.metadata.namespace!;
  const problems: Problem[] = [];
  for (const name of Object.keys(we.spec.ports ?? {})) {
    if (!new RegExp(MESH_LABEL_PATTERN).test(name)) {
      problems.push({ reason: 'InvalidPortName', field: `spec.ports[${name}]`, message: `port name ${JSON.stringify(name)} is not a valid port name (letters, digits and '-', starting and ending with a letter or digit)` });
    }
  }
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
  const where = we.spec.address ?? `on network ${we.spec.network} (no address: not routed to until multi-network gateways are)`;
  return verdict(problems, `${where}; ${member}`);
}
