// Encoded resources: the Any decodes to the message, equal messages get equal versions, and the bytes a resource
// keeps (its Any, its delta form) sit in memory of their own rather than in a slice of Node's shared Buffer pool,
// whose whole 64 KiB slab a long-lived slice would keep alive.
import { describe, expect, it } from '@jest/globals';
import { messageType, TypeUrl } from './protos.js';
import { deltaResourceBytes, encodeResource } from './resource.js';

const any = messageType('google.protobuf.Any');
const cluster = (name: string) => ({ name, type: 'EDS', connect_timeout: { seconds: 10 } });

describe('encodeResource', () => {
  it('encodes the message as an Any with a content-hash version', () => {
    const a = encodeResource(TypeUrl.cluster, 'outbound|80||a', cluster('outbound|80||a'));
    const decoded = any.decode(a.any) as unknown as { type_url: string; value: Uint8Array };
    expect(decoded.type_url).toBe(TypeUrl.cluster);
    expect(messageType(TypeUrl.cluster).toObject(messageType(TypeUrl.cluster).decode(decoded.value))).toMatchObject({ name: 'outbound|80||a' });
    expect(encodeResource(TypeUrl.cluster, 'outbound|80||a', cluster('outbound|80||a')).version).toBe(a.version);
    expect(encodeResource(TypeUrl.cluster, 'outbound|80||b', cluster('outbound|80||b')).version).not.toBe(a.version);
  });

  it('keeps its bytes in allocations of their own, not in slices of the shared pool', () => {
    const resources = Array.from({ length: 50 }, (_, i) => encodeResource(TypeUrl.cluster, `c${i}`, cluster(`c${i}`)));
    for (const r of resources) {
      expect(r.any.buffer.byteLength).toBe(r.any.length);
      const delta = deltaResourceBytes(r);
      expect(delta.buffer.byteLength).toBe(delta.length);
    }
  });
});
