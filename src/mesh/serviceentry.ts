// ServiceEntry validation: endpoint port names refer to the entry's ports.
import type { ServiceEntry } from '../api/index.js';
import { selects } from './labels.js';
import type { MeshLookup } from './lookup.js';
import { verdict, type Problem, type Verdict } from './verdict.js';

export function validateServiceEntry(se: ServiceEntry, lookup: MeshLookup): Verdict {
  const portNames = new Set((se.spec.ports ?? []).map((p) => p.name));
  const problems: Problem[] = [];
  se.spec.endpoints?.forEach((endpoint, i) => {
    for (const name of Object.keys(endpoint.ports ?? {})) {
      if (!portNames.has(name)) {
        problems.push({
          reason: 'PortNotFound',
          field: `spec.endpoints[${i}].ports`,
          message: `port name ${name} is not one of the entry's ports (${[...portNames].join(', ') || 'none'})`,
        });
      }
    }
  });
  let endpoints: string;
  if (se.spec.workloadSelector) {
    const selected = lookup.workloadEntries(se.metadata.namespace!).filter((we) => selects(se.spec.workloadSelector!.labels, we.spec.labels));
    endpoints = `${selected.length} WorkloadEntry endpoint(s) selected`;
  } else {
    endpoints = `${se.spec.endpoints?.length ?? 0} endpoint(s)`;
  }
  return verdict(problems, `declares ${se.spec.hosts.join(', ')}; ${endpoints}`);
}
