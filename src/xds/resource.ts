// One xDS resource, encoded once: the bytes of its Any are shared by every proxy (and every response) that
// carries it. Its version is a hash of those bytes, so an unchanged resource keeps its version across pushes.
import { createHash } from 'node:crypto';
import { messageType, type TypeUrl } from './protos.js';
import { bytesField, DeltaResourceField, encodeAny, stringField } from './wire.js';

/** A protobuf message as a plain object, in protobufjs `fromObject` form (snake_case fields, `@type` for Any). */
export interface ProtoMessage {
  [field: string]: ProtoValue;
}
export type ProtoValue = string | number | boolean | null | undefined | Uint8Array | ProtoValue[] | ProtoMessage;

/** A mesh object a resource was generated from: `Kind/namespace/name`, and the generation it had. */
export interface SourceRef {
  kind: string;
  namespace: string;
  name: string;
  generation: number;
}

export function sourceKey(ref: Pick<SourceRef, 'kind' | 'namespace' | 'name'>): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export interface XdsResource {
  /** A small number of its own (resourceId): sets of resources hash by it, with no WeakMap lookup per member. */
  readonly id: number;
  readonly typeUrl: TypeUrl;
  readonly name: string;
  /** Content hash: equal bytes, equal version. */
  readonly version: string;
  /** The encoded google.protobuf.Any. */
  readonly any: Buffer;
  /** The mesh objects whose content is in this resource (for Programmed, sync counts and NACK attribution). */
  readonly sources: readonly SourceRef[];
  /** `sourceKey` of each source, computed once (the sync status reads them for every proxy, every second). */
  readonly sourceKeys: readonly string[];
  /**
   * Its envoy.service.discovery.v3.Resource (delta xDS), made on first use by deltaResourceBytes: a field, not a
   * WeakMap entry, since every delta response reads it for every resource it carries.
   */
  delta?: Buffer | undefined;
  // Not the message as generated: the bytes say the same, and keeping the objects cost 10 MiB of heap at 1000
  // services. decodeResource gives it back for the debug endpoint and tests.
}

/** The same resource objects in the same order: the same versions (a resource is immutable; a change is a new object). */
export function sameResources(a: readonly XdsResource[], b: readonly XdsResource[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Encodes `message` as a `typeUrl` resource. protobufjs drops fields it does not know, so generators are held to
 * the schema by checkMessage (proto-check.ts) in their tests.
 */
export function encodeResource(typeUrl: TypeUrl, name: string, message: ProtoMessage, sources: readonly SourceRef[] = []): XdsResource {
  const type = messageType(typeUrl);
  const value = type.encode(type.fromObject(message)).finish();
  const version = createHash('sha256').update(value).digest('base64url').slice(0, 16);
  return { id: resourceId(), typeUrl, name, version, any: ownMemory(encodeAny(typeUrl, value)), sources, sourceKeys: sources.map(sourceKey), delta: undefined };
}

let nextResourceId = 1;

/** The id of a new resource object (a new version of a resource is a new object, with a new id). */
export function resourceId(): number {
  return nextResourceId++;
}

/** The resource's message, decoded from its bytes as Envoy's config_dump shows it (enums by name, Any expanded). */
export function decodeResource(resource: Pick<XdsResource, 'typeUrl' | 'any'>): ProtoMessage {
  const type = messageType(resource.typeUrl);
  const any = messageType('google.protobuf.Any').decode(resource.any) as unknown as { value: Uint8Array };
  return type.toObject(type.decode(any.value), { enums: String, longs: String, bytes: String, json: true }) as ProtoMessage;
}

/**
 * `bytes` in an allocation of its own. Small Buffers are slices of Node's shared 64 KiB pool, and one live slice
 * keeps its whole slab alive: resources encoded in a burst, between the burst's short-lived buffers, held 227 slabs
 * (14 MiB) at 1000 services for a few MiB of resources. Resources live until their host changes, so they pay for
 * an exact allocation.
 */
function ownMemory(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(out);
  return out;
}

/** The resource as an envoy.service.discovery.v3.Resource (delta xDS), made once per resource. */
export function deltaResourceBytes(resource: XdsResource): Buffer {
  return (resource.delta ??= ownMemory(
    Buffer.concat([
      stringField(DeltaResourceField.name, resource.name),
      stringField(DeltaResourceField.version, resource.version),
      bytesField(DeltaResourceField.resource, resource.any),
    ]),
  ));
}
