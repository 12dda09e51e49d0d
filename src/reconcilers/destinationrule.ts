// DestinationRule: re-validated when its host appears or disappears, and when a rival rule for the same host
// changes (the oldest one wins, so deleting it promotes the next).
import { resources } from '../api/index.js';
import { validateDestinationRule } from '../mesh/destinationrule.js';
import { qualifyHost } from '../mesh/hosts.js';
import { referringToHost, type MeshInformers } from './informers.js';
import { refs, registerMeshController, watch, type MeshControllerDeps } from './mesh-controller.js';

export function registerDestinationRuleController(informers: MeshInformers, deps: MeshControllerDeps): void {
  const dr = informers.destinationRules;
  const byHost = (host: string) => refs(referringToHost(dr, host));
  registerMeshController(
    {
      name: 'destinationrule',
      resource: resources.DestinationRule,
      informer: dr,
      validate: validateDestinationRule,
      watches: [
        watch(dr, (rule) => byHost(qualifyHost(rule.spec.host, rule.metadata.namespace!))),
        watch(informers.serviceEntries, (se) => se.spec.hosts.flatMap(byHost)),
        watch(informers.services, (svc) => byHost(`${svc.metadata!.name}.${svc.metadata!.namespace}.svc.cluster.local`)),
      ],
    },
    deps,
  );
}
