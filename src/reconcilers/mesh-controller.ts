// The shape every mesh reconciler shares: read the object from the cache, validate it against the rest of
// the mesh, write Accepted/Ready. What differs per kind is the validation and which other objects' changes
// can change the verdict (the watches), so each kind's file supplies just those.
import type { AnyMeshObject } from '../api/index.js';
import { controller, type Informer, type Manager, type MapFunc, type Reconciler, type ResourceType, type Source } from '../controllers/index.js';
import type { MeshLookup } from '../mesh/lookup.js';
import type { Verdict } from '../mesh/verdict.js';
import type { ProgrammedSource } from './programmed.js';
import type { StatusWriter } from './status.js';

export interface Watch<T = unknown> {
  source: Source<T>;
  map: MapFunc<T>;
}

/** Declares a watch; a helper so each Watch keeps its own element type. */
export function watch<T>(source: Source<T>, map: MapFunc<T>): Watch {
  return { source, map } as Watch;
}

export interface MeshControllerSpec<T extends AnyMeshObject> {
  /** Controller name: names metrics, logs and the work queue. */
  name: string;
  resource: ResourceType;
  informer: Informer<T>;
  validate(obj: T, lookup: MeshLookup): Verdict;
  /** Other objects whose changes can change this kind's verdict. */
  watches: Watch[];
}

export interface MeshControllerDeps {
  manager: Manager;
  lookup: MeshLookup;
  status: StatusWriter;
  /** With xDS on: Programmed and the proxies' sync state (see programmed.ts). */
  programmed?: ProgrammedSource;
}

export function registerMeshController<T extends AnyMeshObject>(spec: MeshControllerSpec<T>, deps: MeshControllerDeps): void {
  const reconciler: Reconciler = {
    async reconcile({ namespace, name }, { signal }) {
      const obj = spec.informer.get(namespace, name);
      if (!obj || obj.metadata.deletionTimestamp) return; // gone: nothing refers to its status any more
      const details = deps.programmed?.details(spec.resource.kind, obj);
      await deps.status.write(spec.resource, obj, spec.validate(obj, deps.lookup), signal, details);
    },
  };
  let builder = controller(deps.manager, spec.name).for(spec.informer).withMaxConcurrentReconciles(2);
  for (const w of spec.watches) builder = builder.watches(w.source, w.map);
  if (deps.programmed) builder = builder.watches(deps.programmed.changes(spec.resource.kind), (c) => [c.metadata]);
  builder.complete(reconciler);
}

/** Maps an object to itself-like keys: namespace/name pairs of `objects`. */
export function refs(objects: Array<{ metadata: { namespace?: string; name?: string } }>): Array<{ namespace: string; name: string }> {
  return objects.map((o) => ({ namespace: o.metadata.namespace!, name: o.metadata.name! }));
}
