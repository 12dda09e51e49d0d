// Gateway: re-validated when another Gateway on the same workload changes (port and host claims).
import { resources } from '../api/index.js';
import { validateGateway } from '../mesh/gateway.js';
import { labelsKey } from '../mesh/labels.js';
import { Index, type MeshInformers } from './informers.js';
import { refs, registerMeshController, watch, type MeshControllerDeps } from './mesh-controller.js';

export function registerGatewayController(informers: MeshInformers, deps: MeshControllerDeps): void {
  const gateways = informers.gateways;
  registerMeshController(
    {
      name: 'gateway',
      resource: resources.Gateway,
      informer: gateways,
      validate: validateGateway,
      watches: [watch(gateways, (gw) => refs(gateways.byIndex(Index.workload, labelsKey(gw.spec.selector))))],
    },
    deps,
  );
}
