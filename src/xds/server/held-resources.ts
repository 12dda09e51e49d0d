// What a stream holds of one type, by name: kept as the array of the response that set it until a lookup or a
// change asks for an index. A connect storm gives thousands of streams their whole LDS and CDS once each, and asks
// nothing of it until proxies settle; building a map per stream and type then was work the storm waited for.
import type { XdsResource } from '../resource.js';

export class HeldResources {
  /** The resources as given to replace, until a change makes the index the only truth. */
  private list: readonly XdsResource[] | undefined = [];
  private byName: Map<string, XdsResource> | undefined;

  /** Holds exactly `resources`, kept as given (the caller does not change the array afterwards). */
  replace(resources: readonly XdsResource[]): void {
    this.list = resources;
    this.byName = undefined;
  }

  /** The array given to replace, while nothing changed since: compared in order, it needs no index. */
  get whole(): readonly XdsResource[] | undefined {
    return this.list;
  }

  get size(): number {
    return this.byName?.size ?? this.list!.length;
  }

  /** By name (made on first use, then kept in step). */
  get map(): ReadonlyMap<string, XdsResource> {
    return this.index();
  }

  /**
   * Adds `resources` (distinct names; the caller does not change the array afterwards). Holding nothing yet (a
   * delta stream's first response of a type), it keeps the array as replace does.
   */
  add(resources: readonly XdsResource[]): void {
    if (this.size === 0) this.replace(resources);
    else for (const r of resources) this.set(r);
  }

  set(resource: XdsResource): void {
    this.index().set(resource.name, resource);
    this.list = undefined;
  }

  delete(name: string): void {
    if (this.size === 0) return;
    this.index().delete(name);
    this.list = undefined;
  }

  private index(): Map<string, XdsResource> {
    return (this.byName ??= new Map(this.list!.map((r) => [r.name, r])));
  }
}
