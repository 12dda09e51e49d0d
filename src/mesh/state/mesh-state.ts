// The mesh state: the one layer reconcilers and the xDS pipeline both read, as siblings. It owns the informers and
// their indexes, the lookups, one verdict per object generation (memoised by uid and generation, forgotten when an
// object it depends on changes: src/mesh/dependencies.ts), the last accepted generation of every object, and what
// each object's served form and conflicts are. Nothing here writes to the API server.
import type { AnyMeshObject } from '../../api/index.js';
import type { Informer, KubeObject, Manager } from '../../controllers/index.js';
import { directDependents, keyMatches, type Dependent, type DependencyKind } from '../dependencies.js';
import type { MeshLookup } from '../lookup.js';
import { conflictOf, type Conflict, type ModelInputs } from '../model/index.js';
import { acceptedNow, newerOf, persistedLastAccepted, servedForm, verdictOf, type LastAccepted } from '../served.js';
import type { Verdict } from '../verdict.js';
import { informerInputs } from './inputs.js';
import { Index, informersByKind, meshInformers, relevantUpdate, type MeshInformers } from './informers.js';
import { informerLookup } from './lookup.js';

/** The key verdicts and last accepted records are kept under: the uid (a re-created object starts afresh). */
function uidOf(obj: KubeObject & { kind?: string }): string {
  return obj.metadata?.uid ?? `${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`;
}

export class MeshState {
  readonly informers: MeshInformers;
  readonly lookup: MeshLookup;
  /** What the mesh model reads: served forms, indexes, declared dependencies. */
  readonly inputs: ModelInputs;
  private readonly verdicts = new Map<string, { generation: number; verdict: Verdict }>();
  /** The last generation this replica saw accepted, per uid (status.lastAccepted may not have caught up yet). */
  private readonly remembered = new Map<string, LastAccepted>();

  constructor(manager: Manager) {
    this.informers = meshInformers(manager, (obj) => this.lastAccepted(obj));
    this.lookup = informerLookup(this.informers);
    this.inputs = informerInputs(this.informers, this.lookup, {
      served: (obj) => this.served(obj),
      referrers: (key) => this.referrers(key, false),
    });
    // Subscribed before anything else (no replay: the informers have not started): a verdict is forgotten before
    // a reconciler or the model can ask for it again.
    for (const { kind, informer } of informersByKind(this.informers)) {
      const changed = (obj: KubeObject) => this.forgetDependents({ kind, obj } as Dependent);
      const relevant = relevantUpdate[kind];
      (informer as Informer<KubeObject>).on({
        onAdd: changed,
        onUpdate: (old, obj) => {
          if (!relevant(old, obj)) return; // a status write moves no verdict
          changed(old);
          changed(obj);
        },
        onDelete: (obj) => {
          changed(obj);
          this.verdicts.delete(uidOf(obj));
          this.remembered.delete(uidOf(obj));
        },
      });
    }
  }

  /** Every informer of the state (for waiting on sync). */
  allInformers(): Array<Informer<KubeObject>> {
    return informersByKind(this.informers).map((i) => i.informer as Informer<KubeObject>);
  }

  /** The verdict on `obj`'s current generation, computed once per generation (until something it depends on changes). */
  verdict(obj: AnyMeshObject): Verdict {
    const uid = uidOf(obj);
    const generation = obj.metadata.generation ?? 0;
    const memo = this.verdicts.get(uid);
    if (memo && memo.generation === generation) return memo.verdict;
    const verdict = verdictOf(obj, this.lookup);
    this.verdicts.set(uid, { generation, verdict });
    if (verdict.accepted) {
      const last = this.remembered.get(uid);
      if (!last || last.generation <= generation) this.remembered.set(uid, acceptedNow(obj));
    }
    return verdict;
  }

  /** The last accepted generation of `obj`: its status's record or this replica's, the newer. */
  lastAccepted(obj: AnyMeshObject): LastAccepted | undefined {
    return newerOf(persistedLastAccepted(obj), this.remembered.get(uidOf(obj)));
  }

  /** `obj` as it is served: its current generation if accepted, else its last accepted one, else undefined. */
  served<T extends AnyMeshObject>(obj: T): T | undefined {
    return servedForm(obj, this.verdict(obj), this.remembered.get(uidOf(obj)));
  }

  /** Another object of its kind that has a host `obj` claims (it is served, but not for that host). */
  conflict(obj: AnyMeshObject): Conflict | undefined {
    return conflictOf(obj, this.inputs);
  }

  /**
   * Objects of `kind` whose verdict or status a change of `changed` can move (one step: a verdict reads the objects
   * it refers to as they are, not their verdicts). The reconcilers' watches.
   */
  dependentsOfKind(kind: DependencyKind, changed: Dependent): Dependent[] {
    return directDependents(changed, (key) => this.referrers(key, true), true).filter((d) => d.kind === kind);
  }

  private forgetDependents(changed: Dependent): void {
    for (const d of directDependents(changed, (key) => this.referrers(key, true), true)) this.verdicts.delete(uidOf(d.obj));
  }

  /** Objects referring to `key` (and, with `withMentions`, those mentioning it), of every kind. */
  private referrers(key: string, withMentions: boolean): Dependent[] {
    const out: Dependent[] = [];
    const wildcard = key.startsWith('host:') && key.includes('*');
    for (const { kind, informer } of informersByKind(this.informers)) {
      const inf = informer as Informer<KubeObject>;
      const found = new Set<KubeObject>();
      for (const index of withMentions ? [Index.references, Index.mentions] : [Index.references]) {
        // A wildcard host is referred to through every host it matches: no index answers that, so scan.
        const hits = wildcard ? inf.list().filter((o) => inf.indexValues(index, o).some((k) => keyMatches(key, k))) : inf.byIndex(index, key);
        for (const o of hits) found.add(o);
      }
      for (const obj of found) out.push({ kind, obj } as Dependent);
    }
    return out;
  }
}
