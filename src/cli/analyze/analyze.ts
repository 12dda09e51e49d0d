// `analyze`'s checks over a set of objects (from files or the cluster). It runs the operator's own validation, not a
// copy: the schema the CRDs are made of (schema.ts), each kind's verdict (src/mesh/served.ts verdictOf), the
// conflicts the model reports (src/mesh/model/conflicts.ts), the fields not applied yet (src/mesh/not-applied.ts);
// then checks across objects that no single object's verdict makes: rules nothing uses, Pods that missed injection,
// plaintext clients of STRICT workloads. Pure.
import type { AnyMeshObject, DestinationRule, MeshPolicy, ServiceEntry, VirtualService, WorkloadEntry } from '../../api/index.js';
import { AGENT_CONTAINER } from '../../inject/template.js';
import { INJECT_NAMESPACE_LABEL, INJECT_POD_KEY, NEVER_INJECTED, optOutKey } from '../../inject/names.js';
import { qualifyHost } from '../../mesh/hosts.js';
import { selects } from '../../mesh/labels.js';
import { memoryLookup, type MeshLookup, type MeshObjects } from '../../mesh/lookup.js';
import { conflictOf, memoryInputs } from '../../mesh/model/index.js';
import { isParityKind, notAppliedFields } from '../../mesh/not-applied.js';
import { workloadSecurity } from '../../mesh/policy.js';
import { verdictOf } from '../../mesh/served.js';
import { destinationsOf, hostExists } from '../../mesh/virtualservice.js';
import { MESSAGES, messageForReason, sortDiagnostics, type Diagnostic, type Message } from './diagnostics.js';
import type { Deployment, ObjectSet, Pod } from './objects.js';
import { schemaProblems } from './schema.js';

type Ref = { kind: string; metadata: { namespace?: string; name?: string } };

/** A diagnostic about `obj`; `source` is the object as read (its origin is known by identity) when `obj` is a view of it. */
function at(m: Message, obj: Ref, origins: Map<object, string>, field: string | undefined, message: string, source: object = obj): Diagnostic {
  const origin = origins.get(source);
  return {
    code: m.code,
    severity: m.severity,
    kind: obj.kind,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    name: obj.metadata.name ?? '',
    ...(field ? { field } : {}),
    message,
    ...(origin && origin !== 'cluster' ? { origin } : {}),
  };
}

/** Every problem in `set`, Errors first. */
export function analyze(set: ObjectSet): Diagnostic[] {
  const out: Diagnostic[] = [...set.diagnostics];
  const d = (m: Message, obj: Ref, field: string | undefined, message: string) => out.push(at(m, obj, set.origins, field, message));

  // Objects the API server would refuse never reach the mesh: report them, and leave them out of the rest.
  const mesh: AnyMeshObject[] = [];
  for (const obj of set.mesh) {
    const problems = schemaProblems(obj);
    for (const p of problems) d(p.unknownField ? MESSAGES.unknownField : MESSAGES.schemaViolation, obj, p.field, p.message);
    if (problems.length === 0) mesh.push(obj);
  }
  const objects = meshObjects(set, mesh);
  const lookup = memoryLookup(objects, qualifyHost);

  const accepted = new Set<AnyMeshObject>();
  for (const obj of mesh) {
    const verdict = verdictOf(obj, lookup);
    if (verdict.accepted) accepted.add(obj);
    else for (const p of verdict.problems) d(messageForReason(p.reason), obj, p.field, messageForReason(p.reason) === MESSAGES.rejected ? `${p.reason}: ${p.message}` : p.message);
  }

  const inputs = memoryInputs(objects);
  for (const obj of mesh) {
    const conflict = conflictOf(obj, inputs);
    if (conflict) d(MESSAGES.hostConflict, obj, hostField(obj, conflict.host), conflict.message);
  }

  for (const obj of mesh) {
    if (!isParityKind(obj.kind)) continue;
    for (const f of notAppliedFields(obj.kind, obj.spec)) {
      d(MESSAGES.fieldNotApplied, obj, f.field, `accepted, but not applied yet for ${f.clients.map((c) => (c === 'envoy' ? 'Envoy' : 'proxyless gRPC')).join(' and ')}: ${f.reason}`);
    }
  }

  out.push(...unusedRules(objects, lookup, set.origins));
  out.push(...podsMissingSidecar(set));
  out.push(...plaintextClients(set, mesh.filter((o): o is MeshPolicy => o.kind === 'MeshPolicy' && accepted.has(o)), objects));
  return sortDiagnostics(out);
}

function meshObjects(set: ObjectSet, mesh: AnyMeshObject[]): MeshObjects {
  const of = <K extends AnyMeshObject['kind']>(kind: K) => mesh.filter((o): o is Extract<AnyMeshObject, { kind: K }> => o.kind === kind);
  return {
    services: set.services,
    serviceAccounts: set.serviceAccounts,
    serviceEntries: of('ServiceEntry'),
    destinationRules: of('DestinationRule'),
    gateways: of('Gateway'),
    workloadEntries: of('WorkloadEntry'),
    meshPolicies: of('MeshPolicy'),
    virtualServices: of('VirtualService'),
  };
}

/** The field that names `host` in a VirtualService, DestinationRule or ServiceEntry. */
function hostField(obj: AnyMeshObject, host: string): string | undefined {
  const ns = obj.metadata.namespace!;
  if (obj.kind === 'DestinationRule') return 'spec.host';
  if (obj.kind === 'VirtualService' || obj.kind === 'ServiceEntry') {
    const i = (obj.spec.hosts ?? []).findIndex((h) => qualifyHost(h, ns) === host);
    return i >= 0 ? `spec.hosts[${i}]` : 'spec.hosts';
  }
  return undefined;
}

/**
 * DestinationRules for a host nothing declares and nothing routes to (Warning), and subsets no VirtualService
 * routes to (Info: a subset can be kept ready for a shift to come).
 */
export function unusedRules(objects: MeshObjects, lookup: MeshLookup, origins: Map<object, string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const routes = (objects.virtualServices ?? []).flatMap((vs: VirtualService) =>
    destinationsOf(vs).map(({ destination }) => ({ host: qualifyHost(destination.host, vs.metadata.namespace!), subset: destination.subset })),
  );
  for (const dr of objects.destinationRules ?? []) {
    const host = qualifyHost(dr.spec.host, dr.metadata.namespace!);
    if (host.includes('*')) continue;
    const routed = routes.filter((r) => r.host === host);
    if (routed.length === 0 && !hostExists(host, lookup)) {
      out.push(at(MESSAGES.unusedDestinationRule, dr, origins, 'spec.host', `nothing uses this rule: no Service or ServiceEntry declares host ${host} and no VirtualService routes to it`));
      continue;
    }
    (dr as DestinationRule).spec.subsets?.forEach((s, i) => {
      if (!routed.some((r) => r.subset === s.name)) {
        out.push(at(MESSAGES.unusedSubset, dr, origins, `spec.subsets[${i}].name`, `subset ${s.name} of host ${host} is not routed to by any VirtualService`));
      }
    });
  }
  return out;
}

const injectedNamespaces = (set: ObjectSet): Set<string> =>
  new Set(
    set.namespaces
      .filter((ns) => ns.metadata?.labels?.[INJECT_NAMESPACE_LABEL] === 'enabled' && !NEVER_INJECTED.includes(ns.metadata?.name ?? ''))
      .map((ns) => ns.metadata!.name!),
  );

type PodMetadata = { labels?: Record<string, string>; annotations?: Record<string, string> };
const optedOut = (meta: PodMetadata | undefined) => optOutKey(meta) !== undefined;
const hasAgent = (pod: Pod) => (pod.spec?.containers ?? []).some((c) => c.name === AGENT_CONTAINER);
/** A Pod the API server has stored (so admission, and injection, already ran): not a manifest still to apply. */
const admitted = (pod: Pod) => Boolean(pod.metadata?.uid || pod.status?.phase);

/** Pods in namespaces labelled for injection that run without the sidecar (created before the label, or the webhook failed open). */
export function podsMissingSidecar(set: ObjectSet): Diagnostic[] {
  const injected = injectedNamespaces(set);
  return set.pods
    .filter((pod) => injected.has(pod.metadata?.namespace ?? '') && admitted(pod) && !optedOut(pod.metadata) && !hasAgent(pod))
    .map((pod) =>
      at(MESSAGES.podMissingSidecar, { kind: 'Pod', metadata: pod.metadata ?? {} }, set.origins, 'spec.containers',
        `namespace ${pod.metadata?.namespace} is labelled ${INJECT_NAMESPACE_LABEL}=enabled but this Pod has no ${AGENT_CONTAINER} container: delete it so its controller recreates it injected (or label it ${INJECT_POD_KEY}: "false" to opt out)`, pod),
    );
}

interface Workload {
  kind: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  sidecar: boolean;
  containers: Array<{ name: string; env?: Array<{ name: string; value?: string }>; args?: string[]; command?: string[] }>;
}

/** Pods and Deployments (their template) as workloads, with whether they run the sidecar (or will, once admitted). */
function workloads(set: ObjectSet): Workload[] {
  const injected = injectedNamespaces(set);
  const willInject = (ns: string, meta: PodMetadata | undefined) => injected.has(ns) && !optedOut(meta);
  const pods = set.pods.map((pod): Workload => {
    const ns = pod.metadata?.namespace ?? '';
    return { kind: 'Pod', namespace: ns, name: pod.metadata?.name ?? '', labels: pod.metadata?.labels ?? {}, sidecar: admitted(pod) ? hasAgent(pod) : willInject(ns, pod.metadata) || hasAgent(pod), containers: pod.spec?.containers ?? [] };
  });
  const deployments = set.deployments.map((dep: Deployment): Workload => {
    const ns = dep.metadata?.namespace ?? '';
    const template = dep.spec?.template;
    const containers = template?.spec?.containers ?? [];
    return { kind: 'Deployment', namespace: ns, name: dep.metadata?.name ?? '', labels: template?.metadata?.labels ?? {}, sidecar: willInject(ns, template?.metadata) || containers.some((c) => c.name === AGENT_CONTAINER), containers };
  });
  return [...pods, ...deployments];
}

/** The names a client may use for a Service (`reviews` from its own namespace, `reviews.shop`, `...svc.cluster.local`). */
function serviceNames(name: string, namespace: string, clientNamespace: string): string[] {
  const names = [`${name}.${namespace}`, `${name}.${namespace}.svc`, qualifyHost(name, namespace)];
  return clientNamespace === namespace ? [name, ...names] : names;
}

/** Where a workload's configuration names one of `names` (env values, args, command), as `env X of container c`. */
function mentions(w: Workload, names: readonly string[]): string | undefined {
  const has = (text: string | undefined) => text !== undefined && text.split(/[^A-Za-z0-9.-]+/).some((token) => names.includes(token.replace(/\.$/, '')));
  for (const c of w.containers) {
    const env = c.env?.find((e) => has(e.value));
    if (env) return `env ${env.name} of container ${c.name}`;
    if ([...(c.command ?? []), ...(c.args ?? [])].some(has)) return `the command line of container ${c.name}`;
  }
  return undefined;
}

/**
 * A STRICT MeshPolicy refuses plaintext: a workload without a sidecar that calls a service whose workloads it makes
 * STRICT gets its connections refused. "Calls", as far as the objects tell: its env values or command line name the
 * service's host. Reported at the policy that sets the mode.
 */
export function plaintextClients(set: ObjectSet, policies: MeshPolicy[], objects: MeshObjects): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  const all = workloads(set);
  const servers: Array<{ namespace: string; labels: Record<string, string> }> = [
    ...all,
    ...(objects.workloadEntries ?? []).map((we: WorkloadEntry) => ({ namespace: we.metadata.namespace!, labels: we.spec.labels ?? {} })),
  ];
  for (const server of servers) {
    const security = workloadSecurity(policies, server);
    if (security.mtlsMode !== 'STRICT' || !security.mtlsFrom) continue;
    const policy = policies.find((p) => p.metadata.namespace === security.mtlsFrom!.namespace && p.metadata.name === security.mtlsFrom!.name)!;
    const services = set.services.filter((s) => s.metadata?.namespace === server.namespace && s.spec?.selector && Object.keys(s.spec.selector).length > 0 && selects(s.spec.selector, server.labels));
    const entries = (objects.serviceEntries ?? []).filter((se: ServiceEntry) => se.metadata.namespace === server.namespace && se.spec.workloadSelector && selects(se.spec.workloadSelector.labels, server.labels));
    for (const client of all.filter((w) => !w.sidecar)) {
      const targets = [
        ...services.map((s) => ({ host: qualifyHost(s.metadata!.name!, server.namespace), names: serviceNames(s.metadata!.name!, server.namespace, client.namespace) })),
        ...entries.flatMap((se) => se.spec.hosts.map((h) => ({ host: qualifyHost(h, server.namespace), names: [h, qualifyHost(h, server.namespace)] }))),
      ];
      for (const target of targets) {
        const where = mentions(client, target.names);
        if (!where) continue;
        const key = `${policy.metadata.namespace}/${policy.metadata.name}|${client.kind}/${client.namespace}/${client.name}|${target.host}`;
        if (out.has(key)) continue;
        out.set(key, at(MESSAGES.plaintextClient, policy, set.origins, 'spec.mtls.mode',
          `${client.kind} ${client.namespace}/${client.name} has no sidecar and calls ${target.host} (${where}), whose workloads this policy makes STRICT: its plaintext connections will be refused (inject it, or use PERMISSIVE until it is)`));
      }
    }
  }
  return [...out.values()];
}
