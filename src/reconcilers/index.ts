// One reconciler per mesh resource, wired onto a manager.
import type { EventRecorder, Manager } from '../controllers/index.js';
import { registerDestinationRuleController } from './destinationrule.js';
import { registerGatewayController, type GatewayControllerOptions } from './gateway.js';
import { meshInformers, type MeshInformers } from './informers.js';
import { informerLookup } from './lookup.js';
import { registerMeshPolicyController } from './meshpolicy.js';
import type { ProgrammedSource } from './programmed.js';
import { registerServiceEntryController } from './serviceentry.js';
import { StatusWriter } from './status.js';
import { registerVirtualServiceController } from './virtualservice.js';
import { registerWorkloadEntryController } from './workloadentry.js';

export { meshInformers, type MeshInformers } from './informers.js';
export type { ProgrammedChange, ProgrammedSource } from './programmed.js';

export interface MeshReconcilerOptions {
  /** With xDS on: Programmed and sync counts in status, and Ready = Accepted && Programmed. */
  programmed?: ProgrammedSource;
  /** With xDS on: whether a Gateway's config is served to its proxies (part of its Programmed). */
  gatewayServing?: GatewayControllerOptions['serving'];
}

export function registerMeshReconcilers(manager: Manager, events: EventRecorder, options: MeshReconcilerOptions = {}): MeshInformers {
  const informers = meshInformers(manager);
  const deps = { manager, lookup: informerLookup(informers), status: new StatusWriter(manager.client, events), ...(options.programmed ? { programmed: options.programmed } : {}) };
  registerVirtualServiceController(informers, deps);
  registerDestinationRuleController(informers, deps);
  registerGatewayController(informers, deps, events, options.gatewayServing ? { serving: options.gatewayServing } : {});
  registerServiceEntryController(informers, deps);
  registerWorkloadEntryController(informers, deps);
  registerMeshPolicyController(informers, deps);
  return informers;
}
