// MeshPolicy: re-validated when another policy in its namespace changes (the oldest of a scope owns each field).
import { resources } from '../api/index.js';
import { validateMeshPolicy } from '../mesh/meshpolicy.js';
import type { MeshInformers } from './informers.js';
import { refs, registerMeshController, watch, type MeshControllerDeps } from './mesh-controller.js';

export function registerMeshPolicyController(informers: MeshInformers, deps: MeshControllerDeps): void {
  const policies = informers.meshPolicies;
  registerMeshController(
    {
      name: 'meshpolicy',
      resource: resources.MeshPolicy,
      informer: policies,
      validate: validateMeshPolicy,
      watches: [watch(policies, (p) => refs(policies.list(p.metadata.namespace)))],
    },
    deps,
  );
}
