// Writes what a reconcile concluded into the resource's status: `Accepted` from validation, `Ready` as the
// summary, both stamped with the generation they describe, plus an Event on every transition.
import type { MeshStatus } from '../api/index.js';
import { findCondition, patchStatus, setCondition, type Condition, type EventRecorder, type KubeObject, type ResourceType, type RestClient } from '../controllers/index.js';
import type { Verdict } from '../mesh/verdict.js';

export const FIELD_MANAGER = 'weft-operator';

export interface StatusTarget extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']>;
  status?: MeshStatus;
}

export class StatusWriter {
  constructor(
    private readonly client: RestClient,
    private readonly events: EventRecorder,
  ) {}

  /** Updates Accepted and Ready from `verdict`; writes only when something changed. */
  async write(resource: ResourceType, obj: StatusTarget, verdict: Verdict, signal: AbortSignal): Promise<void> {
    const generation = obj.metadata.generation;
    let conditions = (obj.status?.conditions ?? []) as Condition[];
    const accepted = setCondition(
      conditions,
      { type: 'Accepted', status: verdict.accepted ? 'True' : 'False', reason: verdict.reason, message: verdict.message },
      generation,
    );
    conditions = accepted.conditions;
    // Ready summarises every other condition; for now Accepted is the only one a resource can fail.
    const ready = setCondition(
      conditions,
      verdict.accepted
        ? { type: 'Ready', status: 'True', reason: 'Ready', message: verdict.message }
        : { type: 'Ready', status: 'False', reason: verdict.reason, message: `not accepted: ${verdict.message}` },
      generation,
    );
    conditions = ready.conditions;
    const generationChanged = obj.status?.observedGeneration !== generation;
    if (!accepted.changed && !ready.changed && !generationChanged) return;

    const status: MeshStatus = { ...obj.status, observedGeneration: generation, conditions };
    await patchStatus(this.client, resource, { namespace: obj.metadata.namespace, name: obj.metadata.name! }, status, {
      // A status written from a stale cache must not win over a newer one: fail with 409 and retry from the cache.
      resourceVersion: obj.metadata.resourceVersion,
      fieldManager: FIELD_MANAGER,
      signal,
    });
    if (accepted.transitioned) {
      const was = findCondition(obj.status?.conditions as Condition[] | undefined, 'Accepted');
      if (verdict.accepted) this.events.normal(obj, 'Accepted', 'Validate', was ? `accepted again: ${verdict.message}` : verdict.message);
      else this.events.warning(obj, verdict.reason, 'Validate', verdict.message);
    }
  }
}
