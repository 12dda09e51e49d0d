// `kubectl weft describe pod <name>`: what the mesh applies to one pod and what its proxy holds. The pod's
// services are the Services that select it and the ServiceEntries whose workloadSelector does; for each host, the
// DestinationRules (by the mesh's own host lookup, src/mesh/lookup.ts) and the VirtualServices that route it (mesh
// traffic: no gateways, or `mesh`); the MeshPolicies in scope and the settings they win (src/mesh/policy.ts). Then
// the proxy's per-type state from the replicas' sync summaries.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { resources as meshResources, type DestinationRule, type MeshPolicy, type ServiceEntry, type VirtualService } from '../api/index.js';
import { resourcePath, resources, type KubeObject } from '../controllers/index.js';
import type { Json } from '../controllers/object.js';
import { hostMatches, qualifyHost } from '../mesh/hosts.js';
import { selects } from '../mesh/labels.js';
import { memoryLookup } from '../mesh/lookup.js';
import { scopeFor, workloadSecurity } from '../mesh/policy.js';
import { connect, findProxies, list, readSummaries, type ProxyRow } from './cluster.js';
import { type Verb } from './index.js';
import { render } from './output.js';

interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
  /** The object's Accepted condition (only Accepted objects are served), and Programmed. */
  accepted: string;
  programmed?: string;
}

interface HostRules {
  host: string;
  /** What puts the pod behind this host. */
  via: string;
  destinationRules: ObjectRef[];
  virtualServices: ObjectRef[];
}

export interface PodDescription {
  pod: { namespace: string; name: string; labels: Record<string, string> };
  hosts: HostRules[];
  meshPolicies: Array<ObjectRef & { scope: string }>;
  security: { mtlsMode: string; mtlsFrom?: string; portMtls?: { modes: Record<number, string>; from: string }; authorizations: number; rateLimitFrom?: string; telemetryFrom?: string };
  proxies: ProxyRow[];
}

type MeshObject = KubeObject & { metadata: NonNullable<KubeObject['metadata']>; status?: { conditions?: Array<{ type: string; status: string; reason?: string }> } };

function ref(o: MeshObject): ObjectRef {
  const condition = (type: string) => {
    const c = o.status?.conditions?.find((x) => x.type === type);
    return c ? `${c.status}${c.reason ? ` (${c.reason})` : ''}` : undefined;
  };
  const programmed = condition('Programmed');
  return { kind: o.kind!, namespace: o.metadata.namespace!, name: o.metadata.name!, accepted: condition('Accepted') ?? 'Unknown', ...(programmed ? { programmed } : {}) };
}

/** Pure: the description from what the cluster holds (unit-testable over arrays). */
export function describePod(
  pod: Json<V1Pod>,
  objects: { services: Array<Json<V1Service>>; serviceEntries: ServiceEntry[]; destinationRules: DestinationRule[]; virtualServices: VirtualService[]; meshPolicies: MeshPolicy[] },
  proxies: ProxyRow[],
): PodDescription {
  const namespace = pod.metadata!.namespace!;
  const labels = (pod.metadata!.labels ?? {}) as Record<string, string>;
  const lookup = memoryLookup(objects, qualifyHost);
  const hosts: Array<{ host: string; via: string }> = [];
  for (const svc of objects.services) {
    const selector = svc.spec?.selector as Record<string, string> | undefined;
    if (svc.metadata?.namespace === namespace && selector && Object.keys(selector).length > 0 && selects(selector, labels)) {
      hosts.push({ host: qualifyHost(svc.metadata.name!, namespace), via: `Service ${namespace}/${svc.metadata.name}` });
    }
  }
  for (const se of lookup.serviceEntries(namespace)) {
    const selector = se.spec.workloadSelector;
    if (selector && selects(selector.labels ?? {}, labels)) for (const h of se.spec.hosts) hosts.push({ host: h, via: `ServiceEntry ${namespace}/${se.metadata.name}` });
  }
  const forMesh = (vs: VirtualService) => !vs.spec.gateways || vs.spec.gateways.length === 0 || vs.spec.gateways.includes('mesh');
  const rules = hosts.map(({ host, via }) => ({
    host,
    via,
    destinationRules: lookup.destinationRulesForHost(host).map((dr) => ref(dr as MeshObject)),
    virtualServices: lookup
      .virtualServices()
      .filter((vs) => forMesh(vs) && (vs.spec.hosts ?? []).some((h) => hostMatches(qualifyHost(h, vs.metadata.namespace!), host)))
      .map((vs) => ref(vs as MeshObject)),
  }));
  const workload = { namespace, labels };
  const policies = objects.meshPolicies.flatMap((p) => {
    const scope = scopeFor(p, workload);
    return scope ? [{ ...ref(p as MeshObject), scope }] : [];
  });
  const accepted = objects.meshPolicies.filter((p) => (p as MeshObject).status?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True'));
  const security = workloadSecurity(accepted, workload);
  const name = (r: { namespace: string; name: string } | undefined) => (r ? `${r.namespace}/${r.name}` : undefined);
  return {
    pod: { namespace, name: pod.metadata!.name!, labels },
    hosts: rules,
    meshPolicies: policies,
    security: {
      mtlsMode: security.mtlsMode,
      ...(security.mtlsFrom ? { mtlsFrom: name(security.mtlsFrom)! } : {}),
      ...(security.portMtls ? { portMtls: { modes: security.portMtls.modes, from: name(security.portMtls.from)! } } : {}),
      authorizations: security.authorizations.length,
      ...(security.rateLimit ? { rateLimitFrom: name(security.rateLimit.from)! } : {}),
      ...(security.telemetry ? { telemetryFrom: name(security.telemetry.from)! } : {}),
    },
    proxies: findProxies(proxies, `${namespace}/${pod.metadata!.name!}`, namespace),
  };
}

function asText(d: PodDescription): string {
  const lines = [`Pod: ${d.pod.namespace}/${d.pod.name}`, `Labels: ${Object.entries(d.pod.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '<none>'}`];
  const obj = (r: ObjectRef) => `${r.kind} ${r.namespace}/${r.name} (Accepted ${r.accepted}${r.programmed ? `, Programmed ${r.programmed}` : ''})`;
  if (d.hosts.length === 0) lines.push('Hosts: none (no Service or ServiceEntry selects this pod)');
  for (const h of d.hosts) {
    lines.push(`Host: ${h.host}  (via ${h.via})`);
    lines.push(...(h.virtualServices.length ? h.virtualServices.map((r) => `  ${obj(r)}`) : ['  VirtualService: none (default routing)']));
    lines.push(...(h.destinationRules.length ? h.destinationRules.map((r) => `  ${obj(r)}`) : ['  DestinationRule: none']));
  }
  lines.push('MeshPolicies:');
  lines.push(...(d.meshPolicies.length ? d.meshPolicies.map((p) => `  ${obj(p)} scope ${p.scope}`) : ['  none']));
  const s = d.security;
  const ports = s.portMtls ? `; ports ${Object.entries(s.portMtls.modes).map(([port, mode]) => `${port} ${mode}`).join(', ')} (from ${s.portMtls.from})` : '';
  lines.push(`  mTLS: ${s.mtlsMode}${s.mtlsFrom ? ` (from ${s.mtlsFrom})` : ' (default)'}${ports}; authorization rules in scope: ${s.authorizations}${s.rateLimitFrom ? `; rate limit from ${s.rateLimitFrom}` : ''}${s.telemetryFrom ? `; telemetry from ${s.telemetryFrom}` : ''}`);
  if (d.proxies.length === 0) lines.push('Proxy: not connected to a live replica');
  for (const p of d.proxies) {
    lines.push(`Proxy: ${p.id} (${p.kind}) on replica ${p.replica}`);
    for (const [type, t] of Object.entries(p.types)) lines.push(`  ${type}: ${t.state} acked ${t.acked || '-'}${t.nack ? ` NACK: ${t.nack}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

export const describeVerb: Verb = (program) => {
  const describe = program.command('describe').description('what the mesh applies to an object');
  describe
    .command('pod')
    .description('the VirtualServices, DestinationRules and MeshPolicies that apply to a pod, and what its proxy has ACKed')
    .argument('<name>', 'the pod (in -n)')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const cluster = connect(command);
      const pod = await cluster.client.json<Json<V1Pod>>('GET', resourcePath(resources.pods, { namespace: cluster.namespace, name }));
      const [services, serviceEntries, destinationRules, virtualServices, meshPolicies, summaries] = await Promise.all([
        list<Json<V1Service> & KubeObject>(cluster, resources.services, cluster.namespace),
        list<ServiceEntry>(cluster, meshResources.ServiceEntry, cluster.namespace),
        list<DestinationRule>(cluster, meshResources.DestinationRule),
        list<VirtualService>(cluster, meshResources.VirtualService),
        list<MeshPolicy>(cluster, meshResources.MeshPolicy),
        readSummaries(cluster),
      ]);
      const d = describePod(pod, { services, serviceEntries, destinationRules, virtualServices, meshPolicies }, summaries.proxies);
      process.stdout.write(render(cluster.output, d, asText));
    });
};
