// DNS-resolved ServiceEntries: the proxy resolves the names, so the clusters carry them inline and no EDS is sent;
// Envoy resolves every name (STRICT_DNS), gRPC one (LOGICAL_DNS, which grpc-js-xds accepts).
import { describe, expect, it } from '@jest/globals';
import type { ServiceEntry } from '../../api/index.js';
import { memoryInputs, MeshModelStore } from '../../mesh/model/index.js';
import { serviceEntry } from '../../mesh/model/testing.js';
import { checkMessage } from '../proto-check.js';
import { TypeUrl } from '../protos.js';
import { encodeResource, type ProtoMessage } from '../resource.js';
import { grpcDecode } from '../testing/grpc-validation.js';
import { serviceClusters } from './clusters.js';
import { serviceEndpoints } from './endpoints.js';
import type { Flavor } from './types.js';

const HOST = 'api.example.com';
const external = (extra: Partial<ServiceEntry['spec']>): ServiceEntry =>
  serviceEntry('api', 'shop', HOST, [{ number: 443, name: 'https', protocol: 'HTTPS', targetPort: 8443 }], { location: 'MESH_EXTERNAL', workloadSelector: undefined, ...extra });

function clusterOf(entry: ServiceEntry, flavor: Flavor): ProtoMessage {
  const store = new MeshModelStore(memoryInputs({ serviceEntries: [entry] }));
  store.rebuildAll();
  const service = store.service(HOST)!;
  expect(serviceEndpoints(service)).toEqual([]);
  const [cluster] = serviceClusters(service, flavor);
  expect(checkMessage(TypeUrl.cluster, cluster!.message)).toEqual([]);
  if (flavor === 'proxyless') expect(grpcDecode(encodeResource(TypeUrl.cluster, cluster!.name, cluster!.message)).error).toBeUndefined();
  return cluster!.message;
}

const socket = (address: string, port: number) => ({ endpoint: { address: { socket_address: { address, port_value: port } } } });

describe('DNS clusters', () => {
  const twoNames = external({ resolution: 'DNS', endpoints: [{ address: 'api-1.example.com' }, { address: 'api-2.example.com', ports: { https: 9443 } }] });

  it('gives Envoy every endpoint name to resolve, inline, IPv4 only', () => {
    expect(clusterOf(twoNames, 'envoy')).toMatchObject({
      type: 'STRICT_DNS',
      dns_lookup_family: 'V4_ONLY',
      load_assignment: { cluster_name: `outbound|443||${HOST}`, endpoints: [{ lb_endpoints: [socket('api-1.example.com', 8443), socket('api-2.example.com', 9443)] }] },
    });
    expect(clusterOf(twoNames, 'envoy').eds_cluster_config).toBeUndefined();
  });

  it('gives a proxyless client one name (gRPC resolves a LOGICAL_DNS cluster’s single endpoint)', () => {
    expect(clusterOf(twoNames, 'proxyless')).toMatchObject({ type: 'LOGICAL_DNS', load_assignment: { endpoints: [{ lb_endpoints: [socket('api-1.example.com', 8443)] }] } });
  });

  it('resolves the host itself when the entry lists no endpoints, and DNS_ROUND_ROBIN is LOGICAL_DNS for Envoy too', () => {
    expect(clusterOf(external({ resolution: 'DNS_ROUND_ROBIN' }), 'envoy')).toMatchObject({
      type: 'LOGICAL_DNS',
      load_assignment: { endpoints: [{ lb_endpoints: [socket(HOST, 8443)] }] },
    });
  });
});
