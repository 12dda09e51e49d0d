// Protobuf wire format, by hand, for the few messages the server assembles from pre-encoded parts. A message is
// a concatenation of fields in any order, so a response body shared by every stream (version, resources, type)
// is encoded once and each stream appends only its nonce.

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
  return varintSize((fieldNumber << 3) | 2) + varintSize(payloadSize) + payloadSize;
}

/** Writes a length-delimited field's tag and length at `offset`; returns the offset its payload goes to. */
export function writeFieldHeader(out: Buffer, fieldNumber: number, payloadSize: number, offset: number): number {
  return writeVarint(out, payloadSize, writeVarint(out, (fieldNumber << 3) | 2, offset));
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

/** Reads a message's fields off its bytes, for the one request read by hand (see decodeDiscoveryRequest). */
export class WireReader {
  /** The field nextField moved past: where it began (its tag), and its payload, from..to. */
  fieldStart = 0;
  from = 0;
  to = 0;

  constructor(
    private readonly bytes: Uint8Array,
    public pos = 0,
  ) {}

  /**
   * Moves past the next length-delimited field before `end` (strings, bytes, messages), skipping fields of other
   * wire types; returns its field number, or 0 (no field has it) at `end`.
   */
  nextField(end: number): number {
    while (this.pos < end) {
      this.fieldStart = this.pos;
      const tag = this.varint();
      if ((tag & 7) !== 2) {
        this.skip(tag & 7);
        continue;
      }
      const length = this.varint();
      this.from = this.pos;
      this.to = this.advance(length);
      return tag >>> 3;
    }
    return 0;
  }

  /** A varint of up to 32 bits (tags and lengths); longer ones are read to their end and truncated. */
  varint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= this.bytes.length) throw new RangeError('protobuf: varint runs past the end of the message');
      const byte = this.bytes[this.pos++]!;
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
      if (shift >= 63) throw new RangeError('protobuf: varint longer than 10 bytes');
    }
  }

  /** Moves past `length` bytes; returns the position after them. */
  advance(length: number): number {
    if (length > this.bytes.length - this.pos) throw new RangeError('protobuf: field runs past the end of the message');
    return (this.pos += length);
  }

  /** Moves past a field's value of wire type `wireType` other than length-delimited. */
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.advance(8);
    else if (wireType === 5) this.advance(4);
    else throw new RangeError(`protobuf: wire type ${wireType} is not supported`);
  }
}
