// Decoding the requests proxies send (typed, defaults filled in). Responses are the view's (src/xds/cache.ts).
import protobuf from 'protobufjs';
import { messageType } from '../protos.js';
import { LENGTH_DELIMITED } from '../wire.js';
import { readNode } from './node-reader.js';

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
  /**
   * A request off the wire: its resource_names fields as they came, one character per byte. Equal keys are equal
   * lists, so an ACK repeating its subscription is told by one comparison, and a list many streams send is looked up
   * once per view (ProxyView.resolve), with no name decoded or hashed. Absent on a request made in code.
   */
  readonly names_key?: string;
  /** How many names resource_names holds, counted without decoding them (a request off the wire). */
  names_count?: number;
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

function errorDetail(raw: RawStatus | null | undefined): ErrorDetail | undefined {
  return raw ? { code: raw.code ?? 0, message: raw.message ?? '' } : undefined;
}

/** A delta request's fields as protobufjs decodes them (a SotW request is read field by field, below). */
interface RawRequest {
  type_url: string;
  response_nonce: string;
  error_detail?: RawStatus | null;
}

function decodeRaw<Raw extends RawRequest>(typeName: string, bytes: Buffer): Raw {
  return messageType(typeName).decode(bytes) as unknown as Raw;
}

/** Field numbers of envoy.service.discovery.v3.DiscoveryRequest. */
const RequestField = { versionInfo: 1, node: 2, resourceNames: 3, typeUrl: 4, responseNonce: 5, errorDetail: 6 } as const;

/**
 * A SotW request read field by field with protobufjs's reader: the strings as they are, node and error detail
 * decoded, and the resource names left as bytes (see DiscoveryRequest.names_key) until something asks for them as
 * strings. Most requests are ACKs repeating their subscription, and a connect storm's first requests repeat each
 * other's lists: decoding every name of every one made thousands of strings, each hashed when first looked up.
 */
class WireDiscoveryRequest implements DiscoveryRequest {
  version_info = '';
  node?: NodeMessage;
  type_url = '';
  response_nonce = '';
  error_detail?: ErrorDetail;
  names_count = 0;
  private names: string[] | undefined;
  private key: string | undefined;

  /**
   * `namesFrom`..`namesTo`: the bytes of every resource_names field, other fields among them when `scattered`
   * (encoders write a repeated field's entries together, so it is one run as a rule).
   */
  constructor(
    private readonly bytes: Buffer,
    private readonly namesFrom: number,
    private readonly namesTo: number,
    private readonly scattered: boolean,
  ) {}

  get resource_names(): string[] {
    return (this.names ??= this.readNames((reader) => reader.string()));
  }

  /** Made when asked: a stream of a view of its own never asks (an Envoy sidecar's EDS lists run to 100 kB). */
  get names_key(): string {
    if (this.key !== undefined) return this.key;
    if (this.namesFrom < 0) return (this.key = '');
    if (!this.scattered) return (this.key = this.bytes.toString('latin1', this.namesFrom, this.namesTo));
    return (this.key = this.readNames((reader, start) => this.bytes.toString('latin1', start, reader.skip(reader.uint32()).pos)).join(''));
  }

  /** `read` of each resource_names field (reading its length and payload), from where its tag began. */
  private readNames<T>(read: (reader: protobuf.Reader, start: number) => T): T[] {
    const out: T[] = [];
    if (this.namesFrom < 0) return out;
    const reader = protobuf.Reader.create(this.bytes);
    reader.pos = this.namesFrom;
    while (reader.pos < this.namesTo) {
      const start = reader.pos;
      const tag = reader.uint32();
      if (tag >>> 3 === RequestField.resourceNames && (tag & 7) === LENGTH_DELIMITED) out.push(read(reader, start));
      else reader.skipType(tag & 7);
    }
    return out;
  }
}

export function decodeDiscoveryRequest(bytes: Buffer): DiscoveryRequest {
  const reader = protobuf.Reader.create(bytes);
  let namesFrom = -1;
  let namesTo = -1;
  let scattered = false;
  let count = 0;
  let version = '', typeUrl = '', nonce = '';
  let nodeMessage: NodeMessage | undefined, rawError: RawStatus | undefined;
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    if ((tag & 7) !== LENGTH_DELIMITED) {
      reader.skipType(tag & 7);
      continue;
    }
    switch (tag >>> 3) {
      case RequestField.resourceNames:
        count++;
        if (namesFrom < 0) namesFrom = start;
        else if (namesTo !== start) scattered = true;
        namesTo = reader.skip(reader.uint32()).pos;
        break;
      case RequestField.versionInfo:
        version = reader.string();
        break;
      case RequestField.typeUrl:
        typeUrl = reader.string();
        break;
      case RequestField.responseNonce:
        nonce = reader.string();
        break;
      case RequestField.node:
        nodeMessage = readNode(reader, reader.uint32());
        break;
      case RequestField.errorDetail:
        rawError = messageType('google.rpc.Status').decode(reader, reader.uint32()) as RawStatus;
        break;
      default:
        reader.skipType(LENGTH_DELIMITED);
    }
  }
  const request = new WireDiscoveryRequest(bytes, namesFrom, namesTo, scattered);
  request.version_info = version;
  request.type_url = typeUrl;
  request.response_nonce = nonce;
  request.names_count = count;
  if (nodeMessage) request.node = nodeMessage;
  const error = errorDetail(rawError);
  if (error) request.error_detail = error;
  return request;
}

/** Field numbers of envoy.service.discovery.v3.DeltaDiscoveryRequest that the reader looks at. */
const DeltaRequestField = { node: 1 } as const;

export function decodeDeltaDiscoveryRequest(bytes: Buffer): DeltaDiscoveryRequest {
  // The node (a stream's first request) is read off the wire as SotW's is; protobufjs decodes the rest.
  const { node, rest } = takeNode(bytes, DeltaRequestField.node);
  const raw = decodeRaw<
    RawRequest & { resource_names_subscribe: string[]; resource_names_unsubscribe: string[]; initial_resource_versions: Record<string, string> }
  >('envoy.service.discovery.v3.DeltaDiscoveryRequest', rest);
  const decoded: DeltaDiscoveryRequest = {
    type_url: raw.type_url,
    resource_names_subscribe: raw.resource_names_subscribe,
    resource_names_unsubscribe: raw.resource_names_unsubscribe,
    initial_resource_versions: raw.initial_resource_versions,
    response_nonce: raw.response_nonce,
  };
  if (node) decoded.node = node;
  const error = errorDetail(raw.error_detail);
  if (error) decoded.error_detail = error;
  return decoded;
}

/** The node of a request (field `field`; the last one if it came twice) and the request's bytes without it. */
function takeNode(bytes: Buffer, field: number): { node: NodeMessage | undefined; rest: Buffer } {
  const reader = protobuf.Reader.create(bytes);
  let node: NodeMessage | undefined;
  const kept: Buffer[] = [];
  let keptFrom = 0;
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 !== field || (tag & 7) !== LENGTH_DELIMITED) {
      reader.skipType(tag & 7);
      continue;
    }
    node = readNode(reader, reader.uint32());
    kept.push(bytes.subarray(keptFrom, start));
    keptFrom = reader.pos;
  }
  if (!node) return { node, rest: bytes };
  kept.push(bytes.subarray(keptFrom));
  return { node, rest: Buffer.concat(kept) };
}
