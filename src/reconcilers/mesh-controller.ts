// The shape every mesh reconciler shares: read the object from the cache, take its verdict and served generation
// from the mesh state, write Accepted/Programmed/Ready and the last accepted spec. Which other objects' changes can
// move the verdict is declared once per kind (src/mesh/dependencies.ts); the watches are derived from it.
import type { AnyMeshObject } from '../api/index.js';
import { controller, type ControllerBuilder, type Informer, type KubeObject, type Manager, type Reconciler, type ResourceType } from '../controllers/index.js';
import { delegationCondition } from '../mesh/delegation.js';
import type { Dependent } from '../mesh/dependencies.js';
import { fieldsAppliedCondition, isParityKind } from '../mesh/not-applied.js';
import { persistable, servedGenerationMessage, type LastAccepted } from '../mesh/served.js';
import { informersByKind, relevantUpdate, type MeshState, type ProgrammedSource, type StatusDetails } from '../mesh/state/index.js';
import type { StatusWriter } from './status.js';

export interface MeshControllerSpec {
  /** Controller name: names metrics, logs and the work queue. */
  name: string;
  resource: ResourceType;
}

export interface MeshControllerDeps {
  manager: Manager;
  state: MeshState;
  status: StatusWriter;
  /** With xDS on: Programmed and the proxies' sync state (see src/mesh/state/programmed.ts). */
  programmed?: ProgrammedSource;
}

export function registerMeshController(spec: MeshControllerSpec, deps: MeshControllerDeps): void {
  const kind = spec.resource.kind as AnyMeshObject['kind'];
  const informer = informerOf(deps.state, kind);
  const reconciler: Reconciler = {
    async reconcile({ namespace, name }, { signal }) {
      const obj = informer.get(namespace, name);
      if (!obj || obj.metadata.deletionTimestamp) return; // gone: nothing refers to its status any more
      const verdict = deps.state.verdict(obj);
      await deps.status.write(spec.resource, obj, verdict, signal, withFieldsApplied(obj, verdict.accepted, servingDetails(obj, deps)));
    },
  };
  let builder = controller(deps.manager, spec.name).for(informer).withMaxConcurrentReconciles(2);
  builder = withDeclaredWatches(builder, kind, deps.state);
  if (deps.programmed) builder = builder.watches(deps.programmed.changes(kind), (c) => [c.metadata]);
  builder.complete(reconciler);
}

/** The watches a kind's declared dependencies call for: every object whose change can move its verdict or status. */
export function withDeclaredWatches(builder: ControllerBuilder, kind: AnyMeshObject['kind'], state: MeshState): ControllerBuilder {
  for (const source of informersByKind(state.informers)) {
    const map = (obj: KubeObject) => refs(state.dependentsOfKind(kind, { kind: source.kind, obj } as Dependent));
    // The dependents named are cached objects of the kind: the primary's own replay queues them all at start.
    builder = builder.watches(source.informer as Informer<KubeObject>, map, relevantUpdate[source.kind], { replay: false });
  }
  return builder;
}

/**
 * Programmed (which generation is served, or why none is) and the last accepted spec to persist. A conflict (an
 * older object of the kind has the host) is said here; the rest comes from the xDS side when it serves.
 */
export function servingDetails(obj: AnyMeshObject, deps: Pick<MeshControllerDeps, 'state' | 'programmed'>): StatusDetails {
  return withDelegation(obj, deps.state, programmedDetails(obj, deps));
}

function programmedDetails(obj: AnyMeshObject, deps: Pick<MeshControllerDeps, 'state' | 'programmed'>): StatusDetails {
  const { state } = deps;
  const accepted = state.verdict(obj).accepted;
  const served = state.served(obj);
  const lastAccepted = { lastAccepted: lastAcceptedField(obj, state) };
  const conflict = served ? state.conflict(obj) : undefined;
  if (conflict) {
    return {
      conditions: [{ type: 'Programmed', status: 'False', reason: 'Conflicted', message: conflict.message }],
      conditionTypes: ['Programmed'],
      fields: { ...lastAccepted, proxies: null, synced: null },
    };
  }
  const details = deps.programmed?.details(obj.kind, obj, { accepted, ...(served ? { generation: served.metadata.generation ?? 0 } : {}) });
  if (!details && !accepted && served) {
    // No proxy count to give (xDS off, or a kind it does not count), but which generation is in force still is.
    const message = `${servedGenerationMessage(obj.metadata.generation ?? 0, served.metadata.generation ?? 0)} is in force`;
    return { conditions: [{ type: 'Programmed', status: 'False', reason: 'ServingLastAccepted', message }], conditionTypes: ['Programmed'], fields: lastAccepted };
  }
  return { conditionTypes: ['Programmed'], ...details, fields: { ...details?.fields, ...lastAccepted } };
}

/** A root VirtualService's ResolvedRefs (its delegates), before the other conditions; removed when it delegates nothing. */
function withDelegation(obj: AnyMeshObject, state: MeshState, details: StatusDetails): StatusDetails {
  if (obj.kind !== 'VirtualService') return details;
  const served = state.served(obj);
  const condition = served
    ? delegationCondition(served, (ns, name) => {
        const delegate = state.lookup.virtualService(ns, name);
        return { exists: delegate !== undefined, ...(delegate ? { served: state.served(delegate) } : {}) };
      })
    : undefined;
  return {
    ...details,
    conditions: [...(condition ? [condition] : []), ...(details.conditions ?? [])],
    conditionTypes: ['ResolvedRefs', ...(details.conditionTypes ?? [])],
  };
}

/**
 * Adds `FieldsApplied` (which accepted fields are not applied yet, and for which clients) to a kind's details. Only
 * for an accepted generation: a refused one is not served, and its Accepted condition says why.
 */
export function withFieldsApplied(obj: AnyMeshObject, accepted: boolean, details: StatusDetails): StatusDetails {
  if (!isParityKind(obj.kind)) return details;
  const conditionTypes = [...(details.conditionTypes ?? []), 'FieldsApplied'];
  if (!accepted) return { ...details, conditionTypes };
  return { ...details, conditions: [...(details.conditions ?? []), fieldsAppliedCondition(obj.kind, obj.spec)], conditionTypes };
}

/** What status.lastAccepted should hold: the last accepted generation, unless too large to persist (null removes it). */
export function lastAcceptedField(obj: AnyMeshObject, state: MeshState): LastAccepted | null {
  const last = state.lastAccepted(obj);
  return last && persistable(last) ? last : null;
}

function informerOf(state: MeshState, kind: AnyMeshObject['kind']): Informer<AnyMeshObject> {
  return informersByKind(state.informers).find((i) => i.kind === kind)!.informer as Informer<AnyMeshObject>;
}

/** Maps objects to their namespace/name keys. */
export function refs(objects: Array<{ obj: { metadata?: { namespace?: string; name?: string } } } | { metadata?: { namespace?: string; name?: string } }>): Array<{ namespace: string; name: string }> {
  return objects.map((o) => {
    const m = 'obj' in o ? o.obj.metadata : o.metadata;
    return { namespace: m?.namespace ?? '', name: m?.name ?? '' };
  });
}
