// Status conditions (metav1.Condition): what a user reads to learn the state of an object and what to do.
import { rfc3339 } from './object.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable: one per state a user can be in. */
  reason: string;
  /** For people: what is wrong and what to do about it. */
  message: string;
  /** When `status` last changed (RFC 3339, whole seconds). Not touched when only reason or message change. */
  lastTransitionTime: string;
  /** The metadata.generation this condition was computed from. */
  observedGeneration?: number;
}

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export interface SetConditionResult {
  conditions: Condition[];
  /** Something differs from before: the status needs writing. */
  changed: boolean;
  /** The status changed (or the condition is new): worth an Event. */
  transitioned: boolean;
}

const camelCase = /^[A-Z][A-Za-z0-9]*$/;

/**
 * Returns `existing` with `next` applied; the input is not modified and other conditions keep their order.
 * Throws on a reason that is not CamelCase: that is a programming error, not a state.
 */
export function setCondition(
  existing: readonly Condition[] | undefined,
  next: ConditionUpdate,
  observedGeneration: number | undefined,
  now: Date = new Date(),
): SetConditionResult {
  if (!camelCase.test(next.reason)) throw new Error(`condition reason must be CamelCase, got ${JSON.stringify(next.reason)}`);
  const conditions = [...(existing ?? [])];
  const index = conditions.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? conditions[index] : undefined;
  const transitioned = !previous || previous.status !== next.status;
  const updated: Condition = {
    ...next,
    lastTransitionTime: transitioned ? rfc3339(now.getTime()) : previous.lastTransitionTime,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  const changed =
    transitioned ||
    previous.reason !== updated.reason ||
    previous.message !== updated.message ||
    previous.observedGeneration !== updated.observedGeneration;
  if (!changed) return { conditions, changed, transitioned };
  if (index >= 0) conditions[index] = updated;
  else conditions.push(updated);
  return { conditions, changed, transitioned };
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Removes the condition of `type`, e.g. when it no longer applies. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): { conditions: Condition[]; changed: boolean } {
  const kept = (conditions ?? []).filter((c) => c.type !== type);
  return { conditions: kept, changed: kept.length !== (conditions ?? []).length };
}
