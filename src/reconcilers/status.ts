// Writes what a reconcile concluded into the resource's status: `Accepted` from validation, any further conditions
// a kind reports (a Gateway's `Programmed`), `Ready` as the summary, all stamped with the generation they describe,
// plus an Event on every transition.
import { isDeepStrictEqual } from 'node:util';
import type { MeshStatus } from '../api/index.js';
import {
  findCondition,
  patchStatus,
  removeCondition,
  setCondition,
  type Condition,
  type ConditionUpdate,
  type EventRecorder,
  type ResourceType,
  type RestClient,
} from '../controllers/index.js';
import type { StatusDetails, StatusTarget } from '../mesh/state/programmed.js';
import type { Verdict } from '../mesh/verdict.js';

export type { StatusDetails, StatusTarget };

export const FIELD_MANAGER = 'weft-operator';

/**
 * Conditions that inform without gating Ready: `FieldsApplied` (src/mesh/not-applied.ts) says which accepted fields
 * are not applied yet; the object is still served, so Ready keeps meaning "accepted and in force". When one is False,
 * a Warning Event is recorded once per generation.
 */
export const ADVISORY_CONDITIONS: ReadonlySet<string> = new Set(['FieldsApplied']);

export class StatusWriter {
  /**
   * uid -> the resourceVersion our last status write started from. While the cache still holds that version, our
   * write has not come back through the watch yet: writing again from it could only fail with 409, and the watch
   * event that brings our write will reconcile the object anyway.
   */
  private readonly writtenFrom = new Map<string, string>();

  constructor(
    private readonly client: RestClient,
    private readonly events: EventRecorder,
  ) {}

  /** Updates Accepted, the kind's further conditions and Ready; writes only when something changed. */
  async write(resource: ResourceType, obj: StatusTarget, verdict: Verdict, signal: AbortSignal, details: StatusDetails = {}): Promise<void> {
    const uid = obj.metadata.uid ?? '';
    const pending = this.writtenFrom.get(uid);
    if (pending !== undefined) {
      if (pending === obj.metadata.resourceVersion) return;
      this.writtenFrom.delete(uid);
    }
    const generation = obj.metadata.generation;
    const previous = (obj.status?.conditions ?? []) as Condition[];
    let conditions = previous;
    let changed = false;
    const transitions: ConditionUpdate[] = [];
    const set = (update: ConditionUpdate): void => {
      const before = findCondition(conditions, update.type);
      const result = setCondition(conditions, update, generation);
      conditions = result.conditions;
      changed ||= result.changed;
      // An Event for every change a user would act on: a status flip, or a different reason for False; an advisory
      // condition that stays False says so again for each new generation.
      const newGeneration = ADVISORY_CONDITIONS.has(update.type) && update.status === 'False' && before?.observedGeneration !== generation;
      if (result.transitioned || (update.status === 'False' && before?.reason !== update.reason) || newGeneration) transitions.push(update);
    };
    set({ type: 'Accepted', status: verdict.accepted ? 'True' : 'False', reason: verdict.reason, message: verdict.message });
    const further = details.conditions ?? [];
    for (const update of further) set(update);
    for (const type of details.conditionTypes ?? []) {
      if (further.some((c) => c.type === type)) continue;
      const removed = removeCondition(conditions, type);
      conditions = removed.conditions;
      changed ||= removed.changed;
    }
    // Ready summarises every other condition but the advisory ones: the first one that is not True says why.
    const gating = further.filter((c) => !ADVISORY_CONDITIONS.has(c.type));
    const blocking = gating.find((c) => c.status !== 'True');
    set(
      !verdict.accepted
        ? { type: 'Ready', status: 'False', reason: verdict.reason, message: `not accepted: ${verdict.message}` }
        : blocking
          ? { type: 'Ready', status: 'False', reason: blocking.reason, message: `not ${blocking.type.toLowerCase()}: ${blocking.message}` }
          : { type: 'Ready', status: 'True', reason: 'Ready', message: [verdict.message, ...gating.map((c) => c.message)].join('; ') },
    );
    const fields = details.fields ?? {};
    const status = obj.status as Record<string, unknown> | undefined;
    // Only the fields that changed go into the (merge) patch: the rest stay as stored. A write for new proxy counts
    // must not carry status.lastAccepted, a copy of the spec, every time.
    const changedFields = Object.fromEntries(Object.entries(fields).filter(([key, value]) => !isDeepStrictEqual(value ?? undefined, status?.[key] ?? undefined)));
    const generationChanged = obj.status?.observedGeneration !== generation;
    if (!changed && Object.keys(changedFields).length === 0 && !generationChanged) return;

    const replaced = Object.fromEntries(Object.entries(changedFields).map(([key, value]) => [key, replacing(status?.[key], value)]));
    const next: MeshStatus = { ...replaced, observedGeneration: generation, conditions };
    const stored = await patchStatus<StatusTarget>(this.client, resource, { namespace: obj.metadata.namespace, name: obj.metadata.name! }, next, {
      // A status written from a stale cache must not win over a newer one: fail with 409 and retry from the cache.
      resourceVersion: obj.metadata.resourceVersion,
      fieldManager: FIELD_MANAGER,
      signal,
    });
    const from = obj.metadata.resourceVersion;
    if (uid && from && stored.metadata.resourceVersion !== from) this.writtenFrom.set(uid, from);
    for (const update of transitions) this.recordTransition(obj, previous, update);
  }

  /** Accepted keeps its established events; other conditions: Normal when True, Warning when False, none when Unknown. */
  private recordTransition(obj: StatusTarget, previous: Condition[], update: ConditionUpdate): void {
    if (update.type === 'Ready') return; // a summary: the condition that moved it has its own event
    const was = findCondition(previous, update.type);
    if (update.type === 'Accepted') {
      if (update.status === 'True') this.events.normal(obj, 'Accepted', 'Validate', was ? `accepted again: ${update.message}` : update.message);
      else this.events.warning(obj, update.reason, 'Validate', update.message);
      return;
    }
    if (update.status === 'True') this.events.normal(obj, update.reason, 'Reconcile', `${update.type}: ${update.message}`);
    else if (update.status === 'False') this.events.warning(obj, update.reason, 'Reconcile', `${update.type}=False: ${update.message}`);
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `next` as a merge patch that replaces `stored` rather than merging into it: every key `stored` has and `next`
 * lacks, at any depth, is set to null (removed). Without it a field dropped from a spec would live on in
 * status.lastAccepted.spec and come back into force the next time an update is refused.
 */
export function replacing(stored: unknown, next: unknown): unknown {
  if (!isPlainObject(stored) || !isPlainObject(next)) return next;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(stored)) if (!(key in next)) out[key] = null;
  for (const [key, value] of Object.entries(next)) out[key] = replacing(stored[key], value);
  return out;
}
