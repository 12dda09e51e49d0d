// The model, kept up to date host by host: an object change recomputes only the hosts it can affect (those it
// contributes to now, those it contributed to before, and those whose validity depends on it).
import { isDeepStrictEqual } from 'node:util';
import { affectedHosts, dependentKey, type Dependent } from '../dependencies.js';
import { qualifyHost } from '../hosts.js';
import { buildService } from './build.js';
import { serviceHost } from './kubernetes.js';
import type { ModelInputs } from './inputs.js';
import { refKey, sourcesOf, type MeshModel, type ServiceModel } from './types.js';

/** A change the model hears about: any object the mesh reads, with its kind. */
export type ModelChange = Dependent;

export class MeshModelStore implements MeshModel {
  private readonly byHost = new Map<string, ServiceModel>();
  /** Object key → hosts it fed into at the last recompute (so an update or delete recomputes those too). */
  private readonly contributions = new Map<string, Set<string>>();
  /** Host → hosts its routes send traffic to, and the reverse. */
  private readonly targets = new Map<string, Set<string>>();
  private readonly sourcesOfTarget = new Map<string, Set<string>>();

  constructor(private readonly inputs: ModelInputs) {}

  service(host: string): ServiceModel | undefined {
    return this.byHost.get(host);
  }

  services(): Iterable<ServiceModel> {
    return this.byHost.values();
  }

  routedFrom(host: string): Iterable<string> {
    return this.sourcesOfTarget.get(host) ?? [];
  }

  /** Rebuilds every host; returns the hosts whose model changed. */
  rebuildAll(): Set<string> {
    const hosts = new Set(this.byHost.keys());
    for (const se of this.inputs.allServiceEntries()) for (const h of se.spec.hosts) hosts.add(qualifyHost(h, se.metadata.namespace!));
    for (const svc of this.inputs.allServices()) hosts.add(serviceHost(svc.metadata!.namespace!, svc.metadata!.name!));
    return this.recompute(hosts);
  }

  /** Recomputes `hosts`; returns those whose model changed (added, updated or removed). */
  recompute(hosts: Iterable<string>): Set<string> {
    const changed = new Set<string>();
    for (const host of hosts) {
      const before = this.byHost.get(host);
      const after = buildService(host, this.inputs);
      this.unindex(host, before);
      if (after) this.byHost.set(host, after);
      else this.byHost.delete(host);
      this.index(host, after);
      if (!isDeepStrictEqual(before, after)) changed.add(host);
    }
    return changed;
  }

  /**
   * The hosts whose model `change` can affect: from the declared dependencies (its hosts and those of every object
   * that depends on it, transitively), plus the hosts each of them fed at the last recompute (an update or delete
   * moves them away from those).
   */
  hostsAffectedBy(change: ModelChange): Set<string> {
    return affectedHosts(change, (key) => this.inputs.referrers(key), (d) => this.contributions.get(dependentKey(d)) ?? []);
  }

  private index(host: string, service: ServiceModel | undefined): void {
    if (!service) return;
    for (const ref of sourcesOf(service)) {
      const key = refKey(ref);
      let hosts = this.contributions.get(key);
      if (!hosts) this.contributions.set(key, (hosts = new Set()));
      hosts.add(host);
    }
    const targets = new Set<string>();
    for (const route of service.routing?.http ?? []) {
      for (const d of route.route ?? []) targets.add(d.destination.host);
      if (route.mirror) targets.add(route.mirror.host);
      for (const m of route.mirrors ?? []) targets.add(m.destination.host);
    }
    for (const route of service.routing?.tcp ?? []) for (const d of route.route) targets.add(d.destination.host);
    this.targets.set(host, targets);
    for (const t of targets) {
      let from = this.sourcesOfTarget.get(t);
      if (!from) this.sourcesOfTarget.set(t, (from = new Set()));
      from.add(host);
    }
  }

  private unindex(host: string, service: ServiceModel | undefined): void {
    if (!service) return;
    for (const ref of sourcesOf(service)) {
      const key = refKey(ref);
      const hosts = this.contributions.get(key);
      hosts?.delete(host);
      if (hosts?.size === 0) this.contributions.delete(key);
    }
    for (const t of this.targets.get(host) ?? []) {
      const from = this.sourcesOfTarget.get(t);
      from?.delete(host);
      if (from?.size === 0) this.sourcesOfTarget.delete(t);
    }
    this.targets.delete(host);
  }
}
