// ServiceEntry: re-validated when a WorkloadEntry in its namespace changes (the endpoints it selects).
import { resources } from '../api/index.js';
import { validateServiceEntry } from '../mesh/serviceentry.js';
import type { MeshInformers } from './informers.js';
import { refs, registerMeshController, watch, type MeshControllerDeps } from './mesh-controller.js';

export function registerServiceEntryController(informers: MeshInformers, deps: MeshControllerDeps): void {
  const entries = informers.serviceEntries;
  registerMeshController(
    {
      name: 'serviceentry',
      resource: resources.ServiceEntry,
      informer: entries,
      validate: validateServiceEntry,
      watches: [watch(informers.workloadEntries, (we) => refs(entries.list(we.metadata.namespace).filter((se) => se.spec.workloadSelector)))],
    },
    deps,
  );
}
