// WorkloadEntry: re-validated when its ServiceAccount appears or disappears, and when the ServiceEntries of
// its namespace change (which services it is an endpoint of).
import { resources } from '../api/index.js';
import { validateWorkloadEntry } from '../mesh/workloadentry.js';
import { Index, type MeshInformers } from './informers.js';
import { refs, registerMeshController, watch, type MeshControllerDeps } from './mesh-controller.js';

export function registerWorkloadEntryController(informers: MeshInformers, deps: MeshControllerDeps): void {
  const entries = informers.workloadEntries;
  registerMeshController(
    {
      name: 'workloadentry',
      resource: resources.WorkloadEntry,
      informer: entries,
      validate: validateWorkloadEntry,
      watches: [
        watch(informers.serviceAccounts, (sa) => refs(entries.byIndex(Index.serviceAccount, `${sa.metadata!.namespace}/${sa.metadata!.name}`))),
        watch(informers.serviceEntries, (se) => refs(entries.list(se.metadata.namespace))),
      ],
    },
    deps,
  );
}
