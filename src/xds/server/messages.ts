// Decoding the requests proxies send (typed, defaults filled in). Responses are the view's (src/xds/cache.ts).
import { messageType } from '../protos.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** config.core.v3.Node, the fields the server uses. */
export interface NodeMessage {
  id: string;
  cluster: string;
  metadata: Record<string, JsonValue>;
  locality?: { region: string; zone: string; sub_zone: string };
  user_agent_name: string;
}

export interface ErrorDetail {
  code: number;
  message: string;
}

export interface DiscoveryRequest {
  version_info: string;
  node?: NodeMessage;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: ErrorDetail;
}

export interface DeltaDiscoveryRequest {
  node?: NodeMessage;
  type_url: string;
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: Record<string, string>;
  response_nonce: string;
  error_detail?: ErrorDetail;
}

/**
 * Requests are read straight off the decoded protobufjs message (keepCase: proto field names), without toObject:
 * most requests are ACKs, and converting every one of them into a plain object is the larger part of their cost.
 */
interface RawStatus {
  code?: number;
  message?: string;
}

interface RawNode {
  id?: string;
  cluster?: string;
  metadata?: RawStruct | null;
  locality?: { region?: string; zone?: string; sub_zone?: string } | null;
  user_agent_name?: string;
}

/** google.protobuf.Struct as protobufjs reads it (its built-in well-known types are camelCase even with keepCase). */
interface RawStruct {
  fields?: Record<string, RawValue>;
}
interface RawValue {
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: RawStruct;
  listValue?: { values?: RawValue[] };
}

function structToJson(struct: RawStruct | null | undefined): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(struct?.fields ?? {})) out[k] = valueToJson(v);
  return out;
}

/** Value is a oneof: only the member that was on the wire is set (protobufjs leaves the others at their defaults). */
function valueToJson(v: RawValue): JsonValue {
  switch ((v as { kind?: string }).kind) {
    case 'structValue':
      return structToJson(v.structValue);
    case 'listValue':
      return (v.listValue?.values ?? []).map(valueToJson);
    case 'stringValue':
      return v.stringValue ?? '';
    case 'numberValue':
      return v.numberValue ?? 0;
    case 'boolValue':
      return v.boolValue ?? false;
    default:
      return null;
  }
}

function node(raw: RawNode | null | undefined): NodeMessage | undefined {
  if (!raw) return undefined;
  const locality = raw.locality ? { region: raw.locality.region ?? '', zone: raw.locality.zone ?? '', sub_zone: raw.locality.sub_zone ?? '' } : undefined;
  return {
    id: raw.id ?? '',
    cluster: raw.cluster ?? '',
    metadata: structToJson(raw.metadata),
    ...(locality ? { locality } : {}),
    user_agent_name: raw.user_agent_name ?? '',
  };
}

function errorDetail(raw: RawStatus | null | undefined): ErrorDetail | undefined {
  return raw ? { code: raw.code ?? 0, message: raw.message ?? '' } : undefined;
}

/** What SotW and delta requests share, as protobufjs decodes it. */
interface RawRequest {
  node?: RawNode | null;
  type_url: string;
  response_nonce: string;
  error_detail?: RawStatus | null;
}

function decodeRaw<Raw extends RawRequest>(typeName: string, bytes: Buffer): Raw {
  return messageType(typeName).decode(bytes) as unknown as Raw;
}

/** Adds the optional node and error detail of `raw` to `decoded` (left out when the request has none). */
function withNodeAndError<Decoded extends { node?: NodeMessage; error_detail?: ErrorDetail }>(decoded: Decoded, raw: RawRequest): Decoded {
  const n = node(raw.node);
  if (n) decoded.node = n;
  const e = errorDetail(raw.error_detail);
  if (e) decoded.error_detail = e;
  return decoded;
}

export function decodeDiscoveryRequest(bytes: Buffer): DiscoveryRequest {
  const raw = decodeRaw<RawRequest & { version_info: string; resource_names: string[] }>('envoy.service.discovery.v3.DiscoveryRequest', bytes);
  return withNodeAndError<DiscoveryRequest>(
    { version_info: raw.version_info, resource_names: raw.resource_names, type_url: raw.type_url, response_nonce: raw.response_nonce },
    raw,
  );
}

export function decodeDeltaDiscoveryRequest(bytes: Buffer): DeltaDiscoveryRequest {
  const raw = decodeRaw<
    RawRequest & { resource_names_subscribe: string[]; resource_names_unsubscribe: string[]; initial_resource_versions: Record<string, string> }
  >('envoy.service.discovery.v3.DeltaDiscoveryRequest', bytes);
  return withNodeAndError<DeltaDiscoveryRequest>(
    {
      type_url: raw.type_url,
      resource_names_subscribe: raw.resource_names_subscribe,
      resource_names_unsubscribe: raw.resource_names_unsubscribe,
      initial_resource_versions: raw.initial_resource_versions,
      response_nonce: raw.response_nonce,
    },
    raw,
  );
}

