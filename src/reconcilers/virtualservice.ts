// VirtualService: validated again when a DestinationRule, ServiceEntry, Service or Gateway it refers to changes, or a
// rival VirtualService for one of its hosts (src/mesh/dependencies.ts declares which).
import { resources } from '../api/index.js';
import { registerMeshController, type MeshControllerDeps } from './mesh-controller.js';

export function registerVirtualServiceController(deps: MeshControllerDeps): void {
  registerMeshController({ name: 'virtualservice', resource: resources.VirtualService }, deps);
}
