// Finalizers: hold an object's deletion until the controller has cleaned up what it made outside Kubernetes.
import type { KubeObject } from './object.js';
import { resourcePath, type ResourceType } from './resource.js';
import { contentTypes, type RestClient } from './rest-client.js';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Adds `finalizer` unless present. Resolves with the stored object (or `obj` if nothing changed). */
export async function addFinalizer<T extends KubeObject>(client: RestClient, resource: ResourceType, obj: T, finalizer: string, signal?: AbortSignal): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  return writeFinalizers(client, resource, obj, [...(obj.metadata?.finalizers ?? []), finalizer], signal);
}

/** Removes `finalizer` if present. Resolves with the stored object (or `obj` if nothing changed). */
export async function removeFinalizer<T extends KubeObject>(client: RestClient, resource: ResourceType, obj: T, finalizer: string, signal?: AbortSignal): Promise<T> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  return writeFinalizers(client, resource, obj, (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer), signal);
}

/**
 * A merge patch of the whole finalizer list, with `obj`'s resourceVersion as a precondition: if another writer
 * changed the list since we read it, the API server answers 409 instead of silently dropping their entry. The
 * caller's reconcile then fails and is retried against the fresh object.
 */
async function writeFinalizers<T extends KubeObject>(client: RestClient, resource: ResourceType, obj: T, finalizers: string[], signal?: AbortSignal): Promise<T> {
  const { name, namespace, resourceVersion } = obj.metadata ?? {};
  if (!name || !resourceVersion) throw new Error(`finalizers: ${resource.kind} needs metadata.name and metadata.resourceVersion`);
  return client.json<T>('PATCH', resourcePath(resource, { namespace, name }), {
    body: { metadata: { finalizers, resourceVersion } },
    contentType: contentTypes.mergePatch,
    signal,
  });
}
