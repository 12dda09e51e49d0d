// ServiceEntry: validated again when a WorkloadEntry it selects changes, or a rival entry for one of its hosts
// (src/mesh/dependencies.ts declares which).
import { resources } from '../api/index.js';
import { registerMeshController, type MeshControllerDeps } from './mesh-controller.js';

export function registerServiceEntryController(deps: MeshControllerDeps): void {
  registerMeshController({ name: 'serviceentry', resource: resources.ServiceEntry }, deps);
}
