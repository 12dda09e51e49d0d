// The model, kept up to date host by host: an object change recomputes only the hosts it can affect (those it
// contributes to now, those it contributed to before, and those whose validity depends on it).
import { isDeepStrictEqual } from 'node:util';
import { ROOT_NAMESPACE, type AnyMeshObject } from '../../api/index.js';
import { qualifyHost } from '../hosts.js';
import { selects } from '../labels.js';
import { buildService } from './build.js';
import { serviceHost } from './kubernetes.js';
import { routedHosts, type ModelInputs } from './inputs.js';
import { refKey, sourcesOf, type MeshModel, type ServiceModel } from './types.js';

/** A change the model hears about: a mesh object, or a core object that mesh validation reads. */
export type ModelChange =
  | { kind: AnyMeshObject['kind']; obj: AnyMeshObject }
  | { kind: 'Service'; namespace: string; name: string }
  /** `service`: the Service its `kubernetes.io/service-name` label names, if any. */
  | { kind: 'EndpointSlice'; namespace: string; name: string; service?: string }
  | { kind: 'ServiceAccount'; namespace: string; name: string };

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

  /** The hosts whose model `change` can affect. */
  hostsAffectedBy(change: ModelChange): Set<string> {
    const hosts = new Set<string>();
    const add = (hs: Iterable<string>) => {
      for (const h of hs) if (!h.includes('*')) hosts.add(h);
    };
    // A destination's existence and subsets decide whether the VirtualServices routing to it are valid.
    const withRoutesTo = (fqdn: string) => {
      add([fqdn]);
      for (const vs of this.inputs.virtualServicesRoutingTo(fqdn)) add(routedHosts(vs));
    };
    switch (change.kind) {
      case 'ServiceEntry': {
        const se = change.obj as Extract<AnyMeshObject, { kind: 'ServiceEntry' }>;
        for (const h of se.spec.hosts) withRoutesTo(qualifyHost(h, se.metadata.namespace!));
        break;
      }
      case 'WorkloadEntry': {
        const we = change.obj as Extract<AnyMeshObject, { kind: 'WorkloadEntry' }>;
        for (const se of this.inputs.lookup.serviceEntries(we.metadata.namespace!)) {
          if (se.spec.workloadSelector && selects(se.spec.workloadSelector.labels, we.spec.labels)) {
            add(se.spec.hosts.map((h) => qualifyHost(h, se.metadata.namespace!)));
          }
        }
        break;
      }
      case 'VirtualService':
        add(routedHosts(change.obj as Extract<AnyMeshObject, { kind: 'VirtualService' }>));
        break;
      case 'DestinationRule': {
        const dr = change.obj as Extract<AnyMeshObject, { kind: 'DestinationRule' }>;
        withRoutesTo(qualifyHost(dr.spec.host, dr.metadata.namespace!));
        break;
      }
      case 'Gateway':
        for (const vs of this.inputs.virtualServicesForGateway(`${change.obj.metadata.namespace}/${change.obj.metadata.name}`)) add(routedHosts(vs));
        break;
      case 'MeshPolicy': {
        // Its mtls and authorization reach the workloads of its namespace (every namespace from the root one).
        const ns = change.obj.metadata.namespace!;
        for (const service of this.byHost.values()) {
          if (ns === ROOT_NAMESPACE || service.endpoints.some((e) => e.source.namespace === ns)) hosts.add(service.host);
        }
        break;
      }
      case 'Service':
        // It declares its host (unless a ServiceEntry does), and VirtualServices routing to it are valid while it exists.
        withRoutesTo(serviceHost(change.namespace, change.name));
        break;
      case 'EndpointSlice':
        // Its endpoints are the Service's; the host it fed before (its label may have changed) comes from contributions.
        if (change.service) add([serviceHost(change.namespace, change.service)]);
        break;
      case 'ServiceAccount':
        for (const we of this.inputs.workloadEntriesForServiceAccount(`${change.namespace}/${change.name}`)) {
          for (const h of this.hostsAffectedBy({ kind: 'WorkloadEntry', obj: we })) hosts.add(h);
        }
        break;
    }
    const ref = 'obj' in change ? { kind: change.kind, namespace: change.obj.metadata.namespace!, name: change.obj.metadata.name! } : change;
    add(this.contributions.get(refKey(ref)) ?? []);
    return hosts;
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
