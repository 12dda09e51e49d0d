// Protobuf wire format, by hand, for the few messages the server assembles from pre-encoded parts. A message is
// a concatenation of fields in any order, so a response body shared by every stream (version, resources, type)
// is encoded once and each stream appends only its nonce.

/** Bytes of a varint. */
function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value >>> 0;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** A length-delimited field (strings, bytes, embedded messages): tag, length, payload. */
export function bytesField(fieldNumber: number, payload: Uint8Array): Buffer {
  return Buffer.concat([varint((fieldNumber << 3) | 2), varint(payload.length), payload]);
}

export function stringField(fieldNumber: number, value: string): Buffer {
  return value === '' ? Buffer.alloc(0) : bytesField(fieldNumber, Buffer.from(value, 'utf8'));
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
