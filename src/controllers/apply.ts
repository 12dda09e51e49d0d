// Writing objects: server-side apply for objects we generate, merge patches for status we own.
import type { KubeObject } from './object.js';
import { apiVersionOf, resourcePath, type ResourceType } from './resource.js';
import { contentTypes, type RestClient } from './rest-client.js';

export interface ApplyOptions {
  /** Who owns the applied fields (server-side apply tracks ownership per manager). */
  fieldManager: string;
  /** Take fields other managers own. True by default: a controller is the authority on what it generates. */
  force?: boolean;
  /** 'status' applies to the status subresource. */
  subresource?: 'status';
  signal?: AbortSignal;
}

/**
 * Server-side apply: sends the fields we care about and lets the API server merge them; fields we stop
 * sending are removed if we owned them. `obj` needs metadata.name (and namespace for namespaced kinds);
 * apiVersion and kind are filled in from `resource`. Resolves with the object as stored.
 */
export async function apply<T extends KubeObject>(client: RestClient, resource: ResourceType, obj: T, options: ApplyOptions): Promise<T> {
  const name = obj.metadata?.name;
  const namespace = obj.metadata?.namespace;
  if (!name) throw new Error(`apply ${resource.kind}: metadata.name is required`);
  if (resource.namespaced && !namespace) throw new Error(`apply ${resource.kind} ${name}: metadata.namespace is required`);
  const body = { ...obj, apiVersion: apiVersionOf(resource), kind: resource.kind };
  return client.json<T>('PATCH', resourcePath(resource, { namespace, name, subresource: options.subresource }), {
    query: { fieldManager: options.fieldManager, force: options.force ?? true },
    body, // JSON is YAML: the apply content type accepts it as is
    contentType: contentTypes.applyPatch,
    signal: options.signal,
  });
}

/** Server-side apply to the status subresource. */
export function applyStatus<T extends KubeObject>(client: RestClient, resource: ResourceType, obj: T, options: Omit<ApplyOptions, 'subresource'>): Promise<T> {
  return apply(client, resource, obj, { ...options, subresource: 'status' });
}

export interface PatchStatusOptions {
  /** Makes the patch fail with 409 if the object changed since this version (optimistic locking). */
  resourceVersion?: string;
  fieldManager?: string;
  signal?: AbortSignal;
}

/**
 * Replaces `status` with a JSON merge patch on the status subresource (lists such as conditions are replaced
 * whole, so send the full list). Resolves with the object as stored.
 */
export async function patchStatus<T extends KubeObject & { status?: unknown }>(
  client: RestClient,
  resource: ResourceType,
  ref: { namespace?: string; name: string },
  status: NonNullable<T['status']>,
  options: PatchStatusOptions = {},
): Promise<T> {
  const body = options.resourceVersion ? { metadata: { resourceVersion: options.resourceVersion }, status } : { status };
  return client.json<T>('PATCH', resourcePath(resource, { namespace: ref.namespace, name: ref.name, subresource: 'status' }), {
    query: { fieldManager: options.fieldManager },
    body,
    contentType: contentTypes.mergePatch,
    signal: options.signal,
  });
}
