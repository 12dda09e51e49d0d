// One reconciler per mesh resource, wired onto a manager. They read the mesh state (verdicts, served generations,
// declared dependencies) and write status; the xDS side's word on serving comes in through `programmed`.
import type { EventRecorder, Manager } from '../controllers/index.js';
import type { MeshState, ProgrammedSource } from '../mesh/state/index.js';
import { registerDestinationRuleController } from './destinationrule.js';
import { registerGatewayController, type GatewayControllerOptions } from './gateway.js';
import { registerMeshPolicyController } from './meshpolicy.js';
import { registerServiceEntryController } from './serviceentry.js';
import { StatusWriter } from './status.js';
import { registerVirtualServiceController } from './virtualservice.js';
import { registerWorkloadEntryController } from './workloadentry.js';

export interface MeshReconcilerOptions {
  /** With xDS on: Programmed and sync counts in status, and Ready = Accepted && Programmed. */
  programmed?: ProgrammedSource;
  /** With xDS on: whether a Gateway's config is served to its proxies (part of its Programmed). */
  gatewayServing?: GatewayControllerOptions['serving'];
}

export function registerMeshReconcilers(manager: Manager, state: MeshState, events: EventRecorder, options: MeshReconcilerOptions = {}): void {
  const deps = { manager, state, status: new StatusWriter(manager.client, events), ...(options.programmed ? { programmed: options.programmed } : {}) };
  registerVirtualServiceController(deps);
  registerDestinationRuleController(deps);
  registerGatewayController(deps, events, options.gatewayServing ? { serving: options.gatewayServing } : {});
  registerServiceEntryController(deps);
  registerWorkloadEntryController(deps);
  registerMeshPolicyController(deps);
}
