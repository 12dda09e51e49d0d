// The xDS side's word on a mesh resource, when xDS serves the mesh: its `Programmed` condition (is its current
// generation in the served config; did a proxy reject it) and how many proxies have it (status.proxies, .synced).
// Without xDS there is none, and Ready rests on Accepted alone.
import type { Source } from '../controllers/index.js';
import type { StatusDetails, StatusTarget } from './status.js';

/** A reference to a mesh object whose programmed state changed. */
export interface ProgrammedChange {
  metadata: { namespace: string; name: string };
}

export interface ProgrammedSource {
  /** What to write besides Accepted, or undefined when xDS has no say on this object. */
  details(kind: string, obj: StatusTarget): StatusDetails | undefined;
  /** Objects of `kind` whose programmed state changed: their reconcilers run again (rate-limited at the source). */
  changes(kind: string): Source<ProgrammedChange>;
}
