// Which generation of a mesh object is served. Bad input never changes serving: an object whose current generation
// is accepted is served as it is; one whose newer generation is not (an invalid spec, a reference that broke) keeps
// serving its last accepted generation; one never accepted is not served. The last accepted spec is persisted in
// status.lastAccepted (written by the leader), so a restarted operator or a new leader serves the same. Pure.
import type { AnyMeshObject } from '../api/index.js';
import { gatewayVerdict } from '../gateway/validate.js';
import { validateDestinationRule } from './destinationrule.js';
import type { MeshLookup } from './lookup.js';
import { validateMeshPolicy } from './meshpolicy.js';
import { validateServiceEntry } from './serviceentry.js';
import type { Verdict } from './verdict.js';
import { validateVirtualService } from './virtualservice.js';
import { validateWorkloadEntry } from './workloadentry.js';

/** A generation's spec, as it was accepted. */
export interface LastAccepted {
  generation: number;
  spec: unknown;
}

/** Specs larger than this are not persisted in status (an object's status shares etcd's 1.5 MiB with its spec). */
export const LAST_ACCEPTED_MAX_BYTES = 128 * 1024;

/** The verdict of any mesh object: the one place each kind's validation is chosen. */
export function verdictOf(obj: AnyMeshObject, lookup: MeshLookup): Verdict {
  switch (obj.kind) {
    case 'VirtualService':
      return validateVirtualService(obj, lookup);
    case 'DestinationRule':
      return validateDestinationRule(obj, lookup);
    case 'ServiceEntry':
      return validateServiceEntry(obj, lookup);
    case 'WorkloadEntry':
      return validateWorkloadEntry(obj, lookup);
    case 'MeshPolicy':
      return validateMeshPolicy(obj, lookup);
    case 'Gateway':
      return gatewayVerdict(obj, lookup, lookup.gateways().filter((gw) => gw.metadata.namespace === obj.metadata.namespace));
  }
}

/** What status.lastAccepted holds, if anything usable (the stored record itself: the same object while it stays). */
export function persistedLastAccepted(obj: AnyMeshObject): LastAccepted | undefined {
  const last = obj.status?.lastAccepted;
  return last && typeof last.generation === 'number' && last.spec && typeof last.spec === 'object' ? last : undefined;
}

/** The newer of two records (by generation). */
export function newerOf(a: LastAccepted | undefined, b: LastAccepted | undefined): LastAccepted | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.generation > a.generation ? b : a;
}

/** The record for an accepted object's current generation. */
export function acceptedNow(obj: AnyMeshObject): LastAccepted {
  return { generation: obj.metadata.generation ?? 0, spec: obj.spec };
}

const persistableMemo = new WeakMap<object, boolean>();

/** Whether a record is small enough to persist (measured once per record). */
export function persistable(last: LastAccepted): boolean {
  let ok = persistableMemo.get(last);
  if (ok === undefined) persistableMemo.set(last, (ok = Buffer.byteLength(JSON.stringify(last.spec)) <= LAST_ACCEPTED_MAX_BYTES));
  return ok;
}

/** The object as served from `last`: its spec and generation are those of the accepted generation. */
export function servedFrom<T extends AnyMeshObject>(obj: T, last: LastAccepted): T {
  if (last.generation === obj.metadata.generation && last.spec === obj.spec) return obj;
  return { ...obj, metadata: { ...obj.metadata, generation: last.generation }, spec: last.spec as T['spec'] };
}

/** The served form of `obj` given its verdict and the last accepted record known besides its status (none: status only). */
export function servedForm<T extends AnyMeshObject>(obj: T, verdict: Verdict, remembered?: LastAccepted): T | undefined {
  if (verdict.accepted) return obj;
  const last = newerOf(persistedLastAccepted(obj), remembered);
  return last ? servedFrom(obj, last) : undefined;
}

/** How status says that an object's last accepted generation stands in for its current one. */
export function servedGenerationMessage(current: number, served: number): string {
  return current === served
    ? `generation ${current} is no longer accepted (see Accepted: something it refers to changed); it stays as it was last accepted, and`
    : `generation ${current} is not accepted (see Accepted); generation ${served}, the last accepted,`;
}
