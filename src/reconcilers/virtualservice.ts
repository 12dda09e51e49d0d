// VirtualService: re-validated when a DestinationRule, ServiceEntry, Service or Gateway it refers to changes.
import { resources } from '../api/index.js';
import { qualifyHost } from '../mesh/hosts.js';
import { validateVirtualService } from '../mesh/virtualservice.js';
import { Index, referringToHost, type MeshInformers } from './informers.js';
import { refs, registerMeshController, watch, type MeshControllerDeps } from './mesh-controller.js';

export function registerVirtualServiceController(informers: MeshInformers, deps: MeshControllerDeps): void {
  const vs = informers.virtualServices;
  const byHost = (host: string) => refs(referringToHost(vs, host));
  registerMeshController(
    {
      name: 'virtualservice',
      resource: resources.VirtualService,
      informer: vs,
      validate: validateVirtualService,
      watches: [
        watch(informers.destinationRules, (dr) => byHost(qualifyHost(dr.spec.host, dr.metadata.namespace!))),
        watch(informers.serviceEntries, (se) => se.spec.hosts.flatMap(byHost)),
        watch(informers.services, (svc) => byHost(`${svc.metadata!.name}.${svc.metadata!.namespace}.svc.cluster.local`)),
        watch(informers.gateways, (gw) => refs(vs.byIndex(Index.gateway, `${gw.metadata.namespace}/${gw.metadata.name}`))),
      ],
    },
    deps,
  );
}

