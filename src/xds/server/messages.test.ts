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
});
