// A Gateway's `Programmed`, the xDS side of it: is its current generation in what the gateway proxies are
// served, and did any of them reject it. The Gateway reconciler adds the Deployment's side (src/gateway/status.ts).
import type { Gateway } from '../api/index.js';
import type { ServingState } from '../gateway/status.js';
import { sourceKey } from './resource.js';
import type { SyncStatus } from './sync-status.js';

/**
 * Undefined when Weft cannot tell: a Gateway it neither deploys nor serves to a connected proxy. `accepted` is the
 * Gateway's verdict: one that is not accepted keeps serving its last accepted generation, and that is no news.
 */
export function gatewayServing(sync: SyncStatus, gw: Gateway, accepted: boolean): ServingState | undefined {
  if (!sync.ready) return gw.spec.deployment ? { served: false, pending: true, reason: 'Pending', message: 'the xDS server is starting' } : undefined;
  const summary = sync.summary(sourceKey({ kind: 'Gateway', namespace: gw.metadata.namespace!, name: gw.metadata.name! }));
  if (!summary || summary.servedGeneration === 0) {
    if (!gw.spec.deployment) return undefined;
    return {
      served: false,
      reason: 'NoListeners',
      message: accepted ? 'no server can be served yet: see status.servers (a TLS credential not found?)' : 'not accepted, and no earlier generation was served',
    };
  }
  const proxies = { acked: summary.acked, expected: summary.expected };
  const generation = gw.metadata.generation ?? 0;
  if (accepted && summary.servedGeneration < generation) {
    return { served: false, pending: true, reason: 'Pending', message: `generation ${generation} is not in the served configuration yet`, proxies };
  }
  if (summary.rejections.length > 0) {
    const first = summary.rejections[0]!;
    const others = summary.rejections.length > 1 ? ` (and ${summary.rejections.length - 1} more)` : '';
    return { served: false, reason: 'Rejected', message: `gateway proxy ${first.proxy}${others} rejected its configuration and keeps the last one it accepted: ${first.error}`, proxies };
  }
  const count = summary.expected === 0 ? 'no gateway proxy connected yet' : `${summary.acked}/${summary.expected} gateway proxies ACKed`;
  return { served: true, message: `config served (${count})`, proxies };
}
