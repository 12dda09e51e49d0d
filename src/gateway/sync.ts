// Converges the objects generated for one Gateway on the desired set: applies what is missing or differs
// (server-side apply, force: Weft is the authority on what it generates), deletes what the Gateway no longer asks
// for, and refuses to touch an object of the same name that belongs to someone else.
import type { Gateway } from '../api/index.js';
import { apply, isControlledBy, isNotFound, resourcePath, type KubeObject, type RestClient } from '../controllers/index.js';
import { isDerivative } from './derivative.js';
import { FIELD_MANAGER, GENERATED_HASH_ANNOTATION } from './names.js';
import type { GeneratedInformers } from './informers.js';
import { GENERATED_KINDS, generatedResources, type GeneratedKind, type GeneratedObject } from './resources.js';

export interface ObjectRefOfKind {
  kind: GeneratedKind;
  name: string;
}

export interface SyncResult {
  /** Did not exist: created. */
  created: ObjectRefOfKind[];
  /** Existed with what Weft applied before, but the Gateway spec changed: updated. */
  updated: ObjectRefOfKind[];
  /** Existed with exactly what Weft applied, but someone changed a field Weft owns: changed back. */
  reverted: ObjectRefOfKind[];
  /** No longer asked for by the spec: deleted. */
  deleted: ObjectRefOfKind[];
  /** An object of that name exists and is not this Gateway's: left alone, and nothing applied in its place. */
  blocked: Array<ObjectRefOfKind & { message: string }>;
}

export interface SyncContext {
  client: RestClient;
  informers: GeneratedInformers;
  signal: AbortSignal;
}

export async function syncGeneratedObjects(gw: Gateway, desired: GeneratedObject[], ctx: SyncContext): Promise<SyncResult> {
  const result: SyncResult = { created: [], updated: [], reverted: [], deleted: [], blocked: [] };
  const live = await Promise.all(desired.map((d) => liveObject(d.kind, d.object.metadata.namespace, d.object.metadata.name, ctx)));
  desired.forEach((d, i) => {
    const obj = live[i];
    if (obj && !isControlledBy(obj, gw)) result.blocked.push({ kind: d.kind, name: d.object.metadata.name, message: blockedMessage(gw, d.kind, obj) });
  });
  // All or nothing: a Deployment without its Service (or the reverse) would only look like a gateway.
  if (result.blocked.length > 0) return result;
  const [first, ...rest] = desired.map((d, i) => ({ want: d, live: live[i] }));
  // The ServiceAccount first, so the pods that run as it are not refused meanwhile; the rest together.
  if (first) await syncOne(first.want, first.live, ctx, result);
  await Promise.all(rest.map((r) => syncOne(r.want, r.live, ctx, result)));
  await pruneUnwanted(gw, desired, ctx, result);
  return result;
}

async function syncOne(want: GeneratedObject, live: KubeObject | undefined, ctx: SyncContext, result: SyncResult): Promise<void> {
  const { kind, object } = want;
  if (live && isDerivative(object, live)) return;
  await apply(ctx.client, generatedResources[kind], object, { fieldManager: FIELD_MANAGER, force: true, signal: ctx.signal });
  const ref = { kind, name: object.metadata.name };
  const appliedBefore = live?.metadata?.annotations?.[GENERATED_HASH_ANNOTATION];
  if (!live) result.created.push(ref);
  else if (appliedBefore === object.metadata.annotations?.[GENERATED_HASH_ANNOTATION]) result.reverted.push(ref);
  else result.updated.push(ref);
}

/**
 * The live object from the cache of generated objects; if the cache lacks it, from the API server, because the
 * cache only holds labelled objects and a same-named object someone else made carries no such label.
 */
async function liveObject(kind: GeneratedKind, namespace: string, name: string, ctx: SyncContext): Promise<KubeObject | undefined> {
  const cached = ctx.informers[kind].get(namespace, name);
  if (cached) return cached;
  try {
    return await ctx.client.json<KubeObject>('GET', resourcePath(generatedResources[kind], { namespace, name }), { signal: ctx.signal });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function blockedMessage(gw: Gateway, kind: GeneratedKind, live: KubeObject): string {
  const name = live.metadata?.name;
  const owner = live.metadata?.ownerReferences?.find((r) => r.controller);
  if (owner?.kind === 'Gateway' && owner.name === gw.metadata.name) {
    return `${kind} ${name} still belongs to an earlier Gateway of this name (uid ${owner.uid}); it is re-created once garbage collection removes it`;
  }
  const by = owner ? `is controlled by ${owner.kind} ${owner.name}` : 'was not created by Weft';
  return `${kind} ${name} already exists and ${by}; Weft does not take it over: delete or rename it, or rename the Gateway`;
}

/** Deletes objects this Gateway controls that the desired set no longer has (e.g. the HPA once autoscaling is removed). */
async function pruneUnwanted(gw: Gateway, desired: GeneratedObject[], ctx: SyncContext, result: SyncResult): Promise<void> {
  const wanted = new Set(desired.map((d) => `${d.kind}/${d.object.metadata.name}`));
  const namespace = gw.metadata.namespace!;
  const unwanted = GENERATED_KINDS.flatMap((kind) =>
    ctx.informers[kind]
      .list(namespace)
      .filter((obj) => isControlledBy(obj, gw) && !wanted.has(`${kind}/${obj.metadata?.name}`))
      .map((obj) => ({ kind, obj })),
  );
  await Promise.all(
    unwanted.map(async ({ kind, obj }) => {
      const name = obj.metadata!.name!;
      try {
        await ctx.client.json('DELETE', resourcePath(generatedResources[kind], { namespace, name }), {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: obj.metadata!.uid }, propagationPolicy: 'Background' },
          signal: ctx.signal,
        });
        result.deleted.push({ kind, name });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }),
  );
}
