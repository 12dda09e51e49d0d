// A request's node (envoy.config.core.v3.Node) read off the wire into what Weft uses of it: id, cluster, metadata as
// JSON, locality and user agent. Decoding it with protobufjs built the whole message (extensions, client features,
// each metadata Value as an object with its oneof) and then walked it again into JSON, for the first request of
// every stream: 2000 of them took 223-277 ms in a fresh process, 20-36 ms read this way (bench/request-decode.ts).
// Other fields are skipped.
// As protobufjs does, a field that comes twice keeps its last value (a message field is replaced, not merged).
import type protobuf from 'protobufjs';
import { FIXED64, LENGTH_DELIMITED, VARINT } from '../wire.js';
import type { JsonValue, NodeMessage } from './messages.js';

const NodeField = { id: 1, cluster: 2, metadata: 3, locality: 4, userAgentName: 6 } as const;
const LocalityField = { region: 1, zone: 2, subZone: 3 } as const;
const StructField = { fields: 1 } as const;
const EntryField = { key: 1, value: 2 } as const;
const ValueField = { null: 1, number: 2, string: 3, bool: 4, struct: 5, list: 6 } as const;
const ListField = { values: 1 } as const;

/**
 * Structs and lists nest: deeper than this is no proxy's metadata, and would only run the stack down. (protobufjs's
 * decoder stopped at 100 messages deep, some 32 levels of Struct inside a request.)
 */
export const MAX_METADATA_DEPTH = 32;

/** Reads a Node of `length` bytes at the reader's position (after its length prefix). */
export function readNode(reader: protobuf.Reader, length: number): NodeMessage {
  const end = reader.pos + length;
  const node: NodeMessage = { id: '', cluster: '', metadata: {}, user_agent_name: '' };
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if ((tag & 7) !== LENGTH_DELIMITED) {
      reader.skipType(tag & 7);
      continue;
    }
    if (field === NodeField.id) node.id = reader.string();
    else if (field === NodeField.cluster) node.cluster = reader.string();
    else if (field === NodeField.userAgentName) node.user_agent_name = reader.string();
    else if (field === NodeField.metadata) node.metadata = readStruct(reader, reader.uint32(), 1);
    else if (field === NodeField.locality) node.locality = readLocality(reader, reader.uint32());
    else reader.skipType(LENGTH_DELIMITED);
  }
  return node;
}

function readLocality(reader: protobuf.Reader, length: number): NonNullable<NodeMessage['locality']> {
  const end = reader.pos + length;
  const locality = { region: '', zone: '', sub_zone: '' };
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if ((tag & 7) !== LENGTH_DELIMITED) reader.skipType(tag & 7);
    else if (field === LocalityField.region) locality.region = reader.string();
    else if (field === LocalityField.zone) locality.zone = reader.string();
    else if (field === LocalityField.subZone) locality.sub_zone = reader.string();
    else reader.skipType(LENGTH_DELIMITED);
  }
  return locality;
}

/** google.protobuf.Struct as a JSON object. */
function readStruct(reader: protobuf.Reader, length: number, depth: number): Record<string, JsonValue> {
  if (depth > MAX_METADATA_DEPTH) throw new Error(`node metadata nests deeper than ${MAX_METADATA_DEPTH} levels`);
  const end = reader.pos + length;
  const out: Record<string, JsonValue> = {};
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 !== StructField.fields || (tag & 7) !== LENGTH_DELIMITED) {
      reader.skipType(tag & 7);
      continue;
    }
    // A map entry: its key and its Value, either missing meaning the default ('' and null).
    const entryEnd = reader.uint32() + reader.pos;
    let key = '';
    let value: JsonValue = null;
    while (reader.pos < entryEnd) {
      const entryTag = reader.uint32();
      const field = entryTag >>> 3;
      if ((entryTag & 7) !== LENGTH_DELIMITED) reader.skipType(entryTag & 7);
      else if (field === EntryField.key) key = reader.string();
      else if (field === EntryField.value) value = readValue(reader, reader.uint32(), depth);
      else reader.skipType(LENGTH_DELIMITED);
    }
    out[key] = value;
  }
  return out;
}

/** google.protobuf.Value as JSON: the member of its oneof that came last; null when none did. */
function readValue(reader: protobuf.Reader, length: number, depth: number): JsonValue {
  const end = reader.pos + length;
  let value: JsonValue = null;
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === ValueField.null && wire === VARINT) {
      reader.uint32();
      value = null;
    } else if (field === ValueField.number && wire === FIXED64) value = reader.double();
    else if (field === ValueField.string && wire === LENGTH_DELIMITED) value = reader.string();
    else if (field === ValueField.bool && wire === VARINT) value = reader.bool();
    else if (field === ValueField.struct && wire === LENGTH_DELIMITED) value = readStruct(reader, reader.uint32(), depth + 1);
    else if (field === ValueField.list && wire === LENGTH_DELIMITED) value = readList(reader, reader.uint32(), depth + 1);
    else reader.skipType(wire);
  }
  return value;
}

function readList(reader: protobuf.Reader, length: number, depth: number): JsonValue[] {
  if (depth > MAX_METADATA_DEPTH) throw new Error(`node metadata nests deeper than ${MAX_METADATA_DEPTH} levels`);
  const end = reader.pos + length;
  const out: JsonValue[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === ListField.values && (tag & 7) === LENGTH_DELIMITED) out.push(readValue(reader, reader.uint32(), depth));
    else reader.skipType(tag & 7);
  }
  return out;
}
