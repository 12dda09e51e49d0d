// The seam between the xDS pipeline and the reconcilers, both readers of the mesh state: the xDS side's word on a
// mesh resource, when xDS serves the mesh (its `Programmed` condition: is the generation that should be served in
// the served config, did a proxy reject it; how many proxies have it: status.proxies, .synced). Without xDS there
// is none, and Ready rests on Accepted alone.
import type { MeshStatus } from '../../api/index.js';
import type { ConditionUpdate, KubeObject, Source } from '../../controllers/index.js';

export interface StatusTarget extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']>;
  status?: MeshStatus;
}

/** What a kind reports beyond Accepted. */
export interface StatusDetails {
  /** Further conditions, in order; Ready is False with the first one that is not True. */
  conditions?: ConditionUpdate[];
  /** Condition types this kind may report: those of them missing from `conditions` are removed (not evaluated now). */
  conditionTypes?: string[];
  /** Kind-specific status fields (e.g. a Gateway's addresses); null removes a field. */
  fields?: Record<string, unknown>;
}

/** A reference to a mesh object whose programmed state changed. */
export interface ProgrammedChange {
  metadata: { namespace: string; name: string };
}

/** Which generation of an object should be in the served config, from the mesh state. */
export interface ServedGeneration {
  /** Whether the current generation is accepted. */
  accepted: boolean;
  /** The generation served instead while it is not (its last accepted one); absent when none is served. */
  generation?: number;
}

export interface ProgrammedSource {
  /** What to write besides Accepted, or undefined when xDS has no say on this object. */
  details(kind: string, obj: StatusTarget, served: ServedGeneration): StatusDetails | undefined;
  /** Objects of `kind` whose programmed state changed: their reconcilers run again (rate-limited at the source). */
  changes(kind: string): Source<ProgrammedChange>;
}
