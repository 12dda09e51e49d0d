// DestinationRule: validated again when its host appears or disappears, and when a rival rule for the same host
// changes (the oldest one wins, so deleting it promotes the next; src/mesh/dependencies.ts declares which).
import { resources } from '../api/index.js';
import { registerMeshController, type MeshControllerDeps } from './mesh-controller.js';

export function registerDestinationRuleController(deps: MeshControllerDeps): void {
  registerMeshController({ name: 'destinationrule', resource: resources.DestinationRule }, deps);
}
