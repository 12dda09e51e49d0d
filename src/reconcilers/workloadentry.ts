// WorkloadEntry: validated again when its ServiceAccount appears or disappears, and when the ServiceEntries of
// its namespace change (which services it is an endpoint of; src/mesh/dependencies.ts declares which).
import { resources } from '../api/index.js';
import { registerMeshController, type MeshControllerDeps } from './mesh-controller.js';

export function registerWorkloadEntryController(deps: MeshControllerDeps): void {
  registerMeshController({ name: 'workloadentry', resource: resources.WorkloadEntry }, deps);
}
