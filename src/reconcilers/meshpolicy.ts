// MeshPolicy: validated again when another policy in its namespace changes (the oldest of a scope owns each field;
// src/mesh/dependencies.ts declares which).
import { resources } from '../api/index.js';
import { registerMeshController, type MeshControllerDeps } from './mesh-controller.js';

export function registerMeshPolicyController(deps: MeshControllerDeps): void {
  registerMeshController({ name: 'meshpolicy', resource: resources.MeshPolicy }, deps);
}
