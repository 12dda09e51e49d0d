// What generators return: messages not yet encoded, each with the mesh objects it came from.
import type { MeshRef } from '../../mesh/model/index.js';
import { securityPolicies, type WorkloadSecurity } from '../../mesh/policy.js';
import type { TypeUrl } from '../protos.js';
import type { ProtoMessage } from '../resource.js';
import type { LocalityGroup, LocalityRule } from './locality.js';

/** Proxyless gRPC clients understand a subset of xDS; Envoy sidecars understand all of it. */
export type Flavor = 'proxyless' | 'envoy';

export interface Generated {
  typeUrl: TypeUrl;
  name: string;
  /** For a `localized` assignment: the one a proxy that matches no rule gets (the groups as they are). */
  message: ProtoMessage;
  sources: MeshRef[];
  /** An EDS assignment that differs per proxy placement (locality load balancing): its groups and rule. */
  localized?: { groups: readonly LocalityGroup[]; rule: LocalityRule };
}

/** Sources without duplicates (same object, same generation), in first-seen order. */
export function uniqueSources(refs: Iterable<MeshRef>): MeshRef[] {
  const seen = new Map<string, MeshRef>();
  for (const r of refs) seen.set(`${r.kind}/${r.namespace}/${r.name}@${r.generation}`, r);
  return [...seen.values()];
}

/** The MeshPolicies behind a workload's inbound settings, as sources. */
export function policySources(security: WorkloadSecurity | undefined): MeshRef[] {
  return securityPolicies(security).map((p) => ({ kind: 'MeshPolicy', ...p }));
}
