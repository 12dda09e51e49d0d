// The objects `analyze` looks at: the Weft kinds, and the Kubernetes objects that give them context (Namespaces,
// Services, ServiceAccounts, Pods, Deployments). Read from YAML files (offline, multi-document, directories too) or
// listed through the API server (live).
import type { V1Deployment, V1Namespace, V1Pod, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML, { LineCounter } from 'yaml';
import { API_VERSION, GROUP, MESH_KINDS, resources as meshResources, type AnyMeshObject, type MeshKind } from '../../api/index.js';
import type { Json } from '../../controllers/object.js';
import { groupOf, resources, resourcePath, type ResourceType } from '../../controllers/resource.js';
import type { RestClient } from '../../controllers/rest-client.js';
import { isNotFound } from '../../controllers/rest-client.js';
import { MESSAGES, type Diagnostic } from './diagnostics.js';

export type Namespace = Json<V1Namespace>;
export type Service = Json<V1Service>;
export type ServiceAccount = Json<V1ServiceAccount>;
export type Pod = Json<V1Pod>;
export type Deployment = Json<V1Deployment>;

export interface ObjectSet {
  mesh: AnyMeshObject[];
  namespaces: Namespace[];
  services: Service[];
  serviceAccounts: ServiceAccount[];
  pods: Pod[];
  deployments: Deployment[];
  /** Documents that are not objects analyze can read. */
  diagnostics: Diagnostic[];
  /** Where each object was read from (offline: `file:document`). */
  origins: Map<object, string>;
}

export function emptySet(): ObjectSet {
  return { mesh: [], namespaces: [], services: [], serviceAccounts: [], pods: [], deployments: [], diagnostics: [], origins: new Map() };
}

type Doc = { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown; creationTimestamp?: unknown; generation?: unknown }; items?: unknown };

/** Every YAML/JSON file named, directories walked recursively (sorted, like kubectl apply -f dir). */
export function expandPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new Error(`-f: no such file or directory: ${path}`);
    }
    if (!stat.isDirectory()) {
      out.push(path);
      continue;
    }
    const entries = readdirSync(path).sort();
    out.push(...expandPaths(entries.map((e) => join(path, e)).filter((p) => statSync(p).isDirectory() || /\.(ya?ml|json)$/.test(p))));
  }
  return out;
}

/**
 * The objects in `files`, in the order they would be applied. Objects without a namespace get `namespace` (as
 * kubectl apply does); those without a creationTimestamp get one in file order, so "the oldest wins" picks what
 * applying the files in this order would.
 */
export function readFiles(files: readonly string[], namespace: string, start = Date.UTC(2000, 0, 1)): ObjectSet {
  const set = emptySet();
  let clock = start;
  for (const file of files) {
    const lines = new LineCounter();
    const docs = YAML.parseAllDocuments(readFileSync(file, 'utf8'), { lineCounter: lines });
    docs.forEach((doc) => {
      const origin = `${file}:${lines.linePos(doc.contents?.range[0] ?? doc.range[0]).line}`;
      if (doc.errors.length > 0) {
        set.diagnostics.push({ ...diag(MESSAGES.invalidDocument), kind: 'Document', name: origin, message: `not valid YAML: ${doc.errors[0]!.message}`, origin });
        return;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return;
      const items = isObject(value) && value.kind === 'List' && Array.isArray(value.items) ? (value.items as unknown[]) : [value];
      for (const item of items) {
        if (isObject(item) && isObject(item.metadata)) {
          item.metadata.namespace ??= namespace;
          item.metadata.creationTimestamp ??= new Date((clock += 1000)).toISOString();
          item.metadata.generation ??= 1;
        }
        add(set, item, origin);
      }
    });
  }
  return set;
}

function diag(m: { code: string; severity: Diagnostic['severity'] }) {
  return { code: m.code, severity: m.severity };
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Files one object into the set by apiVersion and kind; reports what is not a readable object. */
export function add(set: ObjectSet, value: unknown, origin: string): void {
  const doc = value as Doc;
  const kind = typeof doc?.kind === 'string' ? doc.kind : undefined;
  const apiVersion = typeof doc?.apiVersion === 'string' ? doc.apiVersion : undefined;
  const name = typeof doc?.metadata?.name === 'string' ? doc.metadata.name : undefined;
  if (!isObject(value) || !kind || !apiVersion || !name) {
    const missing = !isObject(value) ? 'an object' : !apiVersion ? 'apiVersion' : !kind ? 'kind' : 'metadata.name';
    set.diagnostics.push({ ...diag(MESSAGES.invalidDocument), kind: kind ?? 'Document', name: name ?? origin, ...(missing === 'metadata.name' ? { field: 'metadata.name' } : {}), message: `not a Kubernetes object: it has no ${missing}`, origin });
    return;
  }
  set.origins.set(value, origin);
  const group = groupOf(apiVersion);
  if (group.endsWith('.istio.io')) {
    istioResource(set, value as Record<string, any>, { apiVersion, kind, name, group }, origin);
    return;
  }
  if (group === GROUP) {
    if (apiVersion !== API_VERSION || !(MESH_KINDS as string[]).includes(kind)) {
      const namespace = typeof doc.metadata?.namespace === 'string' ? doc.metadata.namespace : undefined;
      set.diagnostics.push({
        ...diag(MESSAGES.unknownKind),
        kind,
        ...(namespace ? { namespace } : {}),
        name,
        field: apiVersion !== API_VERSION ? 'apiVersion' : 'kind',
        message: `${apiVersion} ${kind} is not served: ${GROUP} serves ${API_VERSION} with kinds ${MESH_KINDS.join(', ')}`,
        origin,
      });
      return;
    }
    set.mesh.push(value as AnyMeshObject);
    return;
  }
  const key = `${apiVersion}/${kind}`;
  if (key === 'v1/Namespace') set.namespaces.push(value as Namespace);
  else if (key === 'v1/Service') set.services.push(value as Service);
  else if (key === 'v1/ServiceAccount') set.serviceAccounts.push(value as ServiceAccount);
  else if (key === 'v1/Pod') set.pods.push(value as Pod);
  else if (key === 'apps/v1/Deployment') set.deployments.push(value as Deployment);
  // Anything else (Secrets, ConfigMaps, ...) is context no check needs.
}

/**
 * Istio's resources, which Weft does not read. Its networking kinds port by changing apiVersion (Weft's kinds carry
 * Istio's field names), so the object is said to be Istio's and then checked as if ported; the others are named
 * with what Weft has instead, if anything.
 */
function istioResource(set: ObjectSet, value: Record<string, any>, doc: { apiVersion: string; kind: string; name: string; group: string }, origin: string): void {
  const namespace = typeof value.metadata?.namespace === 'string' ? (value.metadata.namespace as string) : undefined;
  const report = (message: string) =>
    set.diagnostics.push({ ...diag(MESSAGES.istioResource), kind: doc.kind, ...(namespace ? { namespace } : {}), name: doc.name, field: 'apiVersion', message, origin });
  if (doc.group === 'networking.istio.io' && (MESH_KINDS as string[]).includes(doc.kind)) {
    report(`${doc.apiVersion} ${doc.kind} is Istio's: Weft does not read it. Port it by changing apiVersion to ${API_VERSION} (the other checks read it as ported)`);
    const ported = { ...value, apiVersion: API_VERSION };
    set.origins.set(ported, origin);
    set.mesh.push(ported as AnyMeshObject);
    return;
  }
  const instead = ISTIO_INSTEAD[doc.kind];
  report(`${doc.apiVersion} ${doc.kind} is Istio's, and Weft has no such kind${instead ? `: ${instead}` : ''}`);
}

/** What Weft has where Istio has a kind Weft does not. */
const ISTIO_INSTEAD: Readonly<Record<string, string>> = {
  PeerAuthentication: `a MeshPolicy's mtls (${API_VERSION}) sets mTLS per namespace or workload`,
  AuthorizationPolicy: `a MeshPolicy's authorization (${API_VERSION}) allows or denies by identity, namespace, path and method`,
  RequestAuthentication: 'Weft does not validate JWTs',
  Telemetry: `a MeshPolicy's telemetry (${API_VERSION}) sets tracing and access logs`,
};

const deployments: ResourceType = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true };

/** Every object analyze reads, listed through the API server in all namespaces (the checks cross namespaces). */
export async function readCluster(client: RestClient): Promise<ObjectSet> {
  const set = emptySet();
  const list = async (resource: ResourceType): Promise<unknown[]> => {
    const body = await client.json<{ items?: Array<Record<string, unknown>> }>('GET', resourcePath(resource));
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    // List items carry no apiVersion/kind.
    return (body.items ?? []).map((item) => ({ apiVersion, kind: resource.kind, ...item }));
  };
  const meshTypes = MESH_KINDS.map((kind: MeshKind) => {
    const r = meshResources[kind];
    return { group: r.group, version: r.version, plural: r.plural, kind: r.kind, namespaced: true } satisfies ResourceType;
  });
  const meshLists = await Promise.all(
    meshTypes.map((r) =>
      list(r).catch((err: unknown) => {
        if (isNotFound(err)) throw new Error(`the ${r.plural}.${GROUP} CRD is not installed: run kubectl weft check`);
        throw err;
      }),
    ),
  );
  const kubeLists = await Promise.all([resources.namespaces, resources.services, resources.serviceAccounts, resources.pods, deployments].map(list));
  for (const item of [...meshLists.flat(), ...kubeLists.flat()]) add(set, item, 'cluster');
  return set;
}
