import { describe, expect, it } from '@jest/globals';
import { messageType } from '../protos.js';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest } from './messages.js';
import { proxyFromNode } from './proxy.js';

const encode = (type: string, message: object) => {
  const t = messageType(type);
  return Buffer.from(t.encode(t.fromObject(message)).finish());
};

describe('request decoding', () => {
  it('reads the node, its Struct metadata and the ACK fields', () => {
    const req = decodeDiscoveryRequest(
      encode('envoy.service.discovery.v3.DiscoveryRequest', {
        version_info: '3',
        response_nonce: 'a',
        type_url: 'T',
        resource_names: ['x', 'y'],
        node: {
          id: 'sidecar~10.0.0.7~web-1.shop~shop.svc.cluster.local',
          locality: { zone: 'z1' },
          user_agent_name: 'envoy',
          metadata: {
            fields: {
              GENERATOR: { stringValue: 'grpc' },
              PROXYLESS: { boolValue: true },
              N: { numberValue: 0 },
              NESTED: { structValue: { fields: { a: { listValue: { values: [{ stringValue: 'b' }] } } } } },
            },
          },
        },
      }),
    );
    expect(req).toMatchObject({ version_info: '3', response_nonce: 'a', type_url: 'T', resource_names: ['x', 'y'] });
    expect(req.node!.metadata).toEqual({ GENERATOR: 'grpc', PROXYLESS: true, N: 0, NESTED: { a: ['b'] } });
    expect(req.error_detail).toBeUndefined();
    const proxy = proxyFromNode(req.node!);
    expect(proxy).toMatchObject({ kind: 'proxyless', ips: ['10.0.0.7'], locality: { zone: 'z1' } });
  });

  it('reads a NACK and a delta subscription', () => {
    const nack = decodeDiscoveryRequest(encode('envoy.service.discovery.v3.DiscoveryRequest', { type_url: 'T', response_nonce: 'n', error_detail: { code: 3, message: 'bad' } }));
    expect(nack.error_detail).toEqual({ code: 3, message: 'bad' });
    expect(nack.node).toBeUndefined();
    const delta = decodeDeltaDiscoveryRequest(
      encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', { type_url: 'T', resource_names_subscribe: ['a'], initial_resource_versions: { b: 'v1' } }),
    );
    expect(delta).toMatchObject({ resource_names_subscribe: ['a'], resource_names_unsubscribe: [], initial_resource_versions: { b: 'v1' }, response_nonce: '' });
  });

  it('keeps a SotW request\'s names as one key: equal lists, equal keys, whatever other fields carry', () => {
    const request = (fields: object) => decodeDiscoveryRequest(encode('envoy.service.discovery.v3.DiscoveryRequest', { type_url: 'T', ...fields }));
    const ack = request({ resource_names: ['a', 'b|c'], response_nonce: '7', version_info: '3' });
    const first = request({ resource_names: ['a', 'b|c'], node: { id: 'n' } });
    expect(ack.names_key).toBe(first.names_key);
    expect(ack.names_count).toBe(2);
    expect(ack.resource_names).toEqual(['a', 'b|c']);
    expect(request({ resource_names: ['b|c', 'a'] }).names_key).not.toBe(first.names_key);
    expect(request({ resource_names: ['a'] }).names_key).not.toBe(first.names_key);
    expect(request({}).names_key).toBe('');
    expect(request({}).resource_names).toEqual([]);
    expect(request({ resource_names: ['ü/名'] }).resource_names).toEqual(['ü/名']);
  });

  it('reads names wherever they are among the fields, and refuses a message that runs past its end', () => {
    const names = encode('envoy.service.discovery.v3.DiscoveryRequest', { resource_names: ['x'] });
    const more = encode('envoy.service.discovery.v3.DiscoveryRequest', { resource_names: ['y'] });
    const typeUrl = encode('envoy.service.discovery.v3.DiscoveryRequest', { type_url: 'T' });
    // A field may come more than once and in any order: the names around another field are still one list.
    const scattered = decodeDiscoveryRequest(Buffer.concat([names, typeUrl, more]));
    expect(scattered).toMatchObject({ type_url: 'T', names_count: 2 });
    expect(scattered.resource_names).toEqual(['x', 'y']);
    expect(scattered.names_key).toBe(decodeDiscoveryRequest(Buffer.concat([names, more])).names_key);
    expect(() => decodeDiscoveryRequest(names.subarray(0, names.length - 1))).toThrow(RangeError);
  });
});

