// Protobuf wire format, by hand, for the few messages the server assembles from pre-encoded parts. A message is
// a concatenation of fields in any order, so a response body shared by every stream (version, resources, type)
// is encoded once and each stream appends only its nonce.

/** Protobuf's wire types: varints, 64-bit fixed (double), and length-delimited (strings, bytes, messages). */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;

/** How many bytes the varint of `value` takes. */
function varintSize(value: number): number {
  let size = 1;
  for (let v = value >>> 0; v > 0x7f; v >>>= 7) size++;
  return size;
}

/** Writes the varint of `value` at `offset`; returns the offset after it. */
function writeVarint(out: Buffer, value: number, offset: number): number {
  let v = value >>> 0;
  while (v > 0x7f) {
    out[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[offset++] = v;
  return offset;
}

/** The bytes a length-delimited field with a payload of `payloadSize` bytes takes: tag, length, payload. */
export function fieldSize(fieldNumber: number, payloadSize: number): number {
  return varintSize((fieldNumber << 3) | LENGTH_DELIMITED) + varintSize(payloadSize) + payloadSize;
}

/** Writes a length-delimited field's tag and length at `offset`; returns the offset its payload goes to. */
export function writeFieldHeader(out: Buffer, fieldNumber: number, payloadSize: number, offset: number): number {
  return writeVarint(out, payloadSize, writeVarint(out, (fieldNumber << 3) | LENGTH_DELIMITED, offset));
}

/** A tag and a length, then `payloadSize` bytes left for the caller to fill from the returned offset. */
function lengthDelimited(fieldNumber: number, payloadSize: number): { out: Buffer; offset: number } {
  // One allocation per field: responses are assembled from many of them, for every stream of a connect storm.
  const out = Buffer.allocUnsafe(fieldSize(fieldNumber, payloadSize));
  return { out, offset: writeFieldHeader(out, fieldNumber, payloadSize, 0) };
}

/** A length-delimited field (strings, bytes, embedded messages): tag, length, payload. */
export function bytesField(fieldNumber: number, payload: Uint8Array): Buffer {
  const { out, offset } = lengthDelimited(fieldNumber, payload.length);
  out.set(payload, offset);
  return out;
}

export function stringField(fieldNumber: number, value: string): Buffer {
  if (value === '') return Buffer.alloc(0);
  const { out, offset } = lengthDelimited(fieldNumber, Buffer.byteLength(value, 'utf8'));
  out.write(value, offset, 'utf8');
  return out;
}

/** google.protobuf.Any: type_url = 1, value = 2. */
export function encodeAny(typeUrl: string, value: Uint8Array): Buffer {
  return Buffer.concat([stringField(1, typeUrl), bytesField(2, value)]);
}

/** Field numbers of envoy.service.discovery.v3.DiscoveryResponse. */
export const DiscoveryResponseField = { versionInfo: 1, resources: 2, typeUrl: 4, nonce: 5, controlPlane: 6 } as const;

/** Field numbers of envoy.service.discovery.v3.DeltaDiscoveryResponse. */
export const DeltaResponseField = { systemVersionInfo: 1, resources: 2, typeUrl: 4, nonce: 5, removedResources: 6, controlPlane: 7 } as const;

/** Field numbers of envoy.service.discovery.v3.Resource (delta). */
export const DeltaResourceField = { version: 1, resource: 2, name: 3 } as const;

/** config.core.v3.ControlPlane { identifier = 1 }: tells proxies (and their config dumps) who configured them. */
export function controlPlaneField(fieldNumber: number, identifier: string): Buffer {
  return bytesField(fieldNumber, stringField(1, identifier));
}
