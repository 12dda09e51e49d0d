// The hand-written wire format against protobufjs: what it assembles decodes to the fields it was given, for
// lengths whose varints take one, two and three bytes, and for multi-byte UTF-8.
import { describe, expect, it } from '@jest/globals';
import { messageType } from './protos.js';
import { bytesField, DiscoveryResponseField, encodeAny, stringField } from './wire.js';

const response = messageType('envoy.service.discovery.v3.DiscoveryResponse');

describe('wire', () => {
  it.each([0, 1, 127, 128, 300, 16_383, 16_384, 70_000])('assembles a DiscoveryResponse with a %i-byte resource', (size) => {
    const value = Buffer.alloc(size, 7);
    const typeUrl = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
    const bytes = Buffer.concat([
      stringField(DiscoveryResponseField.versionInfo, '12.3'),
      bytesField(DiscoveryResponseField.resources, encodeAny(typeUrl, value)),
      stringField(DiscoveryResponseField.typeUrl, typeUrl),
      stringField(DiscoveryResponseField.nonce, 'ünïcødé-nonce'),
    ]);
    const decoded = response.decode(bytes) as unknown as { version_info: string; type_url: string; nonce: string; resources: Array<{ type_url: string; value: Uint8Array }> };
    expect(decoded.version_info).toBe('12.3');
    expect(decoded.type_url).toBe(typeUrl);
    expect(decoded.nonce).toBe('ünïcødé-nonce');
    expect(decoded.resources).toHaveLength(1);
    expect(decoded.resources[0]!.type_url).toBe(typeUrl);
    expect(Buffer.from(decoded.resources[0]!.value).equals(value)).toBe(true);
  });

  it('leaves an empty string out, as protobuf does', () => {
    expect(stringField(DiscoveryResponseField.nonce, '')).toHaveLength(0);
  });
});
