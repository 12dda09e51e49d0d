// The shape of Kubernetes objects as the API server sends them (JSON), and how objects are keyed.
import { isDeepStrictEqual } from 'node:util';

/**
 * An API object as it travels on the wire: client-node's model types (V1ConfigMap, ...) declare timestamps as
 * `Date`, but the framework never converts JSON, so caches hold RFC 3339 strings. `Json<V1ConfigMap>` is the
 * honest type of a ConfigMap from an informer.
 */
export type Json<T> = T extends Date
  ? string
  : T extends ReadonlyArray<infer U>
    ? Array<Json<U>>
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The metadata fields the framework reads or writes; objects carry more. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

/** Any API object. Only the fields every kind has are known here. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** What a reconcile is about. `namespace` is '' for cluster-scoped objects. */
export interface ObjectRef {
  namespace: string;
  name: string;
}

/** client-go's MetaNamespaceKeyFunc: `namespace/name`, or `name` for cluster-scoped objects. */
export function keyOf(ref: { namespace?: string; name: string }): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

export function objectKey(obj: KubeObject): string {
  return keyOf({ namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '' });
}

/**
 * `obj` with `old`'s spec object when the two specs are equal. The API server sends the whole object on every
 * change, a status write included, so without this whoever kept the previous spec (the mesh state's last accepted
 * record, say) held a second copy of it once the cache moved on: at 1000 services, a first start's status writes
 * left ~1.5 MiB of such copies.
 */
export function withSpecOf<T extends KubeObject>(old: KubeObject | undefined, obj: T): T {
  const oldSpec = (old as { spec?: unknown } | undefined)?.spec;
  const spec = (obj as { spec?: unknown }).spec;
  if (oldSpec === undefined || spec === undefined || oldSpec === spec || !isDeepStrictEqual(oldSpec, spec)) return obj;
  return { ...obj, spec: oldSpec };
}

/** Inverse of keyOf. Names cannot contain '/', so the first '/' separates the namespace. */
export function parseKey(key: string): ObjectRef {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits (`2026-11-25T14:00:00.123456Z`). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Kubernetes Time (metav1.Time): RFC 3339 with whole seconds. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The annotation `kubectl apply` (client-side) stores a whole copy of the object in. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * `obj` without what only the API server and kubectl read: managedFields (server-side apply's per-field owners) and
 * kubectl's last-applied copy of the object. An informer transform for caches whose readers never look at either;
 * they often weigh more than the spec. Returns `obj` itself when it has neither.
 */
export function withoutBookkeeping<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as (ObjectMeta & { managedFields?: unknown }) | undefined;
  if (!meta || (meta.managedFields === undefined && meta.annotations?.[LAST_APPLIED_ANNOTATION] === undefined)) return obj;
  const { managedFields: _managedFields, ...rest } = meta;
  const metadata: ObjectMeta = rest;
  if (meta.annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) {
    const { [LAST_APPLIED_ANNOTATION]: _lastApplied, ...annotations } = meta.annotations;
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { ...obj, metadata };
}
