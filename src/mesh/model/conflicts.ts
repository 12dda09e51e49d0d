// Conflicts: several objects of one kind competing for a host (two VirtualServices routing it for mesh proxies, two
// DestinationRules configuring it, two ServiceEntries declaring it). Istio's rule decides: the oldest wins (then
// namespace/name). The winner is whatever build.ts serves, so the loser can name it in Programmed=False Conflicted.
import type { AnyMeshObject } from '../../api/index.js';
import { routedHosts } from '../dependencies.js';
import { qualifyHost } from '../hosts.js';
import { refOf } from '../verdict.js';
import { appliesToMesh, declaringEntry, routingVirtualService, ruleFor } from './build.js';
import type { ModelInputs } from './inputs.js';

export interface Conflict {
  host: string;
  /** `namespace/name` of the object that has the host. */
  winner: string;
  message: string;
}

/** The first host `obj` (in its served form) loses to an older object of its kind; undefined when it loses none. */
export function conflictOf(obj: AnyMeshObject, inputs: ModelInputs): Conflict | undefined {
  const served = inputs.served(obj);
  if (!served) return undefined;
  const self = refOf(obj);
  const ns = obj.metadata.namespace!;
  const lost = (host: string, winner: AnyMeshObject | undefined, what: string): Conflict | undefined => {
    if (!winner || refOf(winner) === self) return undefined;
    const by = `${winner.kind} ${refOf(winner)}`;
    return { host, winner: refOf(winner), message: `${by} is older and already ${what} host ${host}; this one is not served for it (the oldest wins, as in Istio)` };
  };
  switch (served.kind) {
    case 'VirtualService': {
      if (!appliesToMesh(served.spec.gateways)) return undefined;
      for (const host of routedHosts(served)) {
        const c = lost(host, routingVirtualService(host, inputs), 'routes');
        if (c) return c;
      }
      return undefined;
    }
    case 'DestinationRule': {
      if (served.spec.workloadSelector) return undefined;
      const host = qualifyHost(served.spec.host, ns);
      return host.includes('*') ? undefined : lost(host, ruleFor(host, inputs), 'configures');
    }
    case 'ServiceEntry': {
      for (const host of served.spec.hosts.map((h) => qualifyHost(h, ns)).filter((h) => !h.includes('*'))) {
        const c = lost(host, declaringEntry(host, inputs), 'declares');
        if (c) return c;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
