// The informer's local copy of the objects it watches: a keyed map plus secondary indexes, and the pure diff
// that turns a relist into the add/update/delete events the outage hid.
import { objectKey, type KubeObject } from './object.js';

export type IndexFunc<T> = (obj: T) => string[];

export type CacheEvent<T> =
  | { type: 'add'; obj: T }
  | { type: 'update'; old: T; obj: T }
  /** `obj` is the last state this cache saw; after a relist that may be older than the final state. */
  | { type: 'delete'; obj: T };

/**
 * What changed between the cache and a fresh list. Objects only in the list are adds, objects only in the cache
 * are deletes (they vanished while we were not watching), and objects in both are updates when their
 * resourceVersion differs. Unchanged objects produce nothing: handlers are level-triggered already.
 */
export function relistDiff<T extends KubeObject>(cached: ReadonlyMap<string, T>, listed: readonly T[]): Array<CacheEvent<T>> {
  const events: Array<CacheEvent<T>> = [];
  const seen = new Set<string>();
  for (const obj of listed) {
    const key = objectKey(obj);
    seen.add(key);
    const old = cached.get(key);
    if (!old) events.push({ type: 'add', obj });
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) events.push({ type: 'update', old, obj });
  }
  for (const [key, obj] of cached) if (!seen.has(key)) events.push({ type: 'delete', obj });
  return events;
}

const byNamespace = 'namespace';

export class Store<T extends KubeObject> {
  /** key (`namespace/name`) → object. */
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys. Updated on every write, so reads never scan `items`. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  /**
   * index name → key → the values it was indexed under. A removal takes out exactly what was put in, even when an
   * index function reads more than the object (a last accepted spec remembered elsewhere).
   */
  private readonly indexed = new Map<string, Map<string, string[]>>();

  constructor() {
    this.addIndex(byNamespace, (obj) => [obj.metadata?.namespace ?? '']);
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  /** All objects, or those of one namespace. */
  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.items.values()] : this.byIndex(byNamespace, namespace);
  }

  get size(): number {
    return this.items.size;
  }

  snapshot(): ReadonlyMap<string, T> {
    return this.items;
  }

  /** Registers an index; existing objects are indexed at once. Index names are unique. */
  addIndex(name: string, indexFunc: IndexFunc<T>): void {
    if (this.indexers.has(name)) throw new Error(`index ${name} already exists`);
    this.indexers.set(name, indexFunc);
    this.indices.set(name, new Map());
    this.indexed.set(name, new Map());
    for (const [key, obj] of this.items) this.indexUnder(name, key, [...new Set(indexFunc(obj))]);
  }

  byIndex(name: string, value: string): T[] {
    const index = this.indices.get(name);
    if (!index) throw new Error(`no index named ${name}`);
    return [...(index.get(value) ?? [])].map((key) => this.items.get(key)!);
  }

  /** The values the object stored under `key` is indexed under in index `name`. */
  indexValues(name: string, key: string): readonly string[] {
    return this.indexed.get(name)?.get(key) ?? [];
  }

  /**
   * Inserts or replaces; returns the previous object. A replaced object's index entries are rewritten only where its
   * values changed: most updates (a status write) change none, and rewriting them churned every index's maps.
   */
  set(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    for (const [name, indexFunc] of this.indexers) {
      const values = [...new Set(indexFunc(obj))];
      const before = this.indexed.get(name)!.get(key);
      if (before && before.length === values.length && values.every((v, i) => v === before[i])) continue;
      if (before) this.unindex(name, key);
      this.indexUnder(name, key, values);
    }
    return old;
  }

  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.items.delete(key);
    for (const name of this.indexers.keys()) this.unindex(name, key);
    return old;
  }

  /** Makes the store equal to `listed` and returns the events that describe the change. */
  replace(listed: readonly T[]): Array<CacheEvent<T>> {
    const events = relistDiff(this.items, listed);
    for (const event of events) {
      if (event.type === 'delete') this.delete(objectKey(event.obj));
      else this.set(event.obj);
    }
    return events;
  }

  private indexUnder(name: string, key: string, values: string[]): void {
    const index = this.indices.get(name)!;
    this.indexed.get(name)!.set(key, values);
    for (const value of values) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  /** Takes `key` out of index `name`: exactly the values it was put in under. */
  private unindex(name: string, key: string): void {
    const index = this.indices.get(name)!;
    const indexed = this.indexed.get(name)!;
    for (const value of indexed.get(key) ?? []) {
      const keys = index.get(value);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) index.delete(value);
    }
    indexed.delete(key);
  }
}
