// MeshPolicy through the model into proxyless resources: the workloads' server listeners and the clusters that
// reach them. Checked against the Envoy schema and, where no RBAC is involved, grpc-js-xds's own decoders with a
// bootstrap that has the agent's certificate provider.
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import type { MeshPolicy } from '../../api/index.js';
import { memoryInputs, MeshModelStore } from '../../mesh/model/index.js';
import { reviewsMesh } from '../../mesh/model/testing.js';
import { checkMessage } from '../proto-check.js';
import { messageType, TypeUrl } from '../protos.js';
import { encodeResource, type ProtoMessage } from '../resource.js';
import { inboundListenerName } from './mtls.js';
import { proxylessResources } from './proxyless.js';
import type { Generated } from './types.js';

const require = createRequire(import.meta.url);

function policy(name: string, spec: MeshPolicy['spec']): MeshPolicy {
  return { apiVersion: 'weft.dev/v1alpha1', kind: 'MeshPolicy', metadata: { name, namespace: 'shop', creationTimestamp: '2026-11-25T10:00:00Z', generation: 1 }, spec };
}

function generate(meshPolicies: MeshPolicy[]) {
  const m = reviewsMesh();
  const store = new MeshModelStore(
    memoryInputs({ serviceAccounts: m.serviceAccounts, serviceEntries: [m.serviceEntry], workloadEntries: [m.v1, m.v2], meshPolicies }),
  );
  store.rebuildAll();
  return { m, store, resources: proxylessResources(store.service(m.host)!, store) };
}

const find = (resources: Generated[], typeUrl: string, name: string): ProtoMessage => resources.find((r) => r.typeUrl === typeUrl && r.name === name)!.message;

/** grpc-js-xds's decoder, with a bootstrap whose certificate provider is the one the agent writes. */
function grpcDecode(g: Generated): { error?: string } {
  (require('@grpc/grpc-js-xds') as { register(): void }).register();
  const module = g.typeUrl === TypeUrl.listener ? ['listener-resource-type', 'ListenerResourceType'] : ['cluster-resource-type', 'ClusterResourceType'];
  const cls = (require(`@grpc/grpc-js-xds/build/src/xds-resource-type/${module[0]}`) as Record<string, { get(): { decode(c: object, r: object): { error?: string } } }>)[module[1]!]!;
  const anyType = messageType('google.protobuf.Any');
  const any = anyType.toObject(anyType.decode(encodeResource(g.typeUrl, g.name, g.message).any)) as { type_url: string; value: Uint8Array };
  const context = {
    server: { server_uri: 'localhost:1', channel_creds: [{ type: 'insecure' }], server_features: [] },
    bootstrap: { xdsServers: [], node: { id: 'test' }, authorities: {}, serverListenerResourceNameTemplate: 'weft/grpc/lds/inbound/%s', certificateProviders: { default: {} } },
  };
  return cls.get().decode(context, { type_url: any.type_url, value: Buffer.from(any.value) });
}

describe('mesh security in proxyless resources', () => {
  it('without a policy: plaintext server listeners, plaintext clusters', () => {
    const { m, resources } = generate([]);
    const listener = find(resources, TypeUrl.listener, inboundListenerName('127.0.0.2', 50051));
    expect(listener).toMatchObject({ address: { socket_address: { address: '127.0.0.2', port_value: 50051 } } });
    expect((listener.filter_chains as ProtoMessage[]).map((c) => c.name)).toEqual(['inbound|50051|plaintext']);
    expect(find(resources, TypeUrl.cluster, `outbound|9080||${m.host}`).transport_socket).toBeUndefined();
  });

  it('STRICT: the server requires client certificates; clients present theirs and accept only the workload identity', () => {
    const { m, resources } = generate([policy('strict', { mtls: { mode: 'STRICT' } })]);
    const name = inboundListenerName('127.0.0.3', 50051);
    const listener = resources.find((r) => r.name === name)!;
    expect(checkMessage(TypeUrl.listener, listener.message)).toEqual([]);
    expect(grpcDecode(listener).error).toBeUndefined();
    const [chain] = listener.message.filter_chains as ProtoMessage[];
    expect(chain).toMatchObject({ name: 'inbound|50051|mtls', transport_socket: { typed_config: { require_client_certificate: { value: true } } } });

    const cluster = resources.find((r) => r.typeUrl === TypeUrl.cluster && r.name === `outbound|9080||${m.host}`)!;
    expect(checkMessage(TypeUrl.cluster, cluster.message)).toEqual([]);
    expect(grpcDecode(cluster).error).toBeUndefined();
    expect(cluster.message.transport_socket).toMatchObject({
      typed_config: { common_tls_context: { validation_context: { match_subject_alt_names: [{ exact: 'spiffe://cluster.local/ns/shop/sa/reviews' }] } } },
    });
  });

  it("portLevelMtls: a workload port's own mode, over the namespace's, for its server and for clients' auto mTLS", () => {
    const chainsOf = (resources: Generated[], ip: string) => (find(resources, TypeUrl.listener, inboundListenerName(ip, 50051)).filter_chains as ProtoMessage[]).map((c) => c.name);
    const strict = policy('strict', { mtls: { mode: 'STRICT' } });
    // v1's port 50051 opts out of the namespace's STRICT: v1 serves plaintext there, v2 keeps mTLS, and clients no
    // longer use mTLS toward the service (not every workload requires it).
    const v1Open = policy('v1-open', { selector: { matchLabels: { version: 'v1' } }, portLevelMtls: { '50051': { mode: 'DISABLE' } } });
    const { m, resources } = generate([strict, v1Open]);
    expect(chainsOf(resources, '127.0.0.2')).toEqual(['inbound|50051|plaintext']);
    expect(chainsOf(resources, '127.0.0.3')).toEqual(['inbound|50051|mtls']);
    expect(find(resources, TypeUrl.cluster, `outbound|9080||${m.host}`).transport_socket).toBeUndefined();

    // Both workloads STRICT on that port only: clients use mTLS; a port-level mode on another port changes nothing.
    const portStrict = policy('port-strict', { selector: { matchLabels: { app: 'reviews' } }, portLevelMtls: { '50051': { mode: 'STRICT' } } });
    const other = generate([policy('other-port', { selector: { matchLabels: { app: 'reviews' } }, portLevelMtls: { '8080': { mode: 'STRICT' } } })]);
    expect(chainsOf(other.resources, '127.0.0.2')).toEqual(['inbound|50051|plaintext']);
    const strictPort = generate([portStrict]);
    expect(chainsOf(strictPort.resources, '127.0.0.2')).toEqual(['inbound|50051|mtls']);
    const cluster = strictPort.resources.find((r) => r.typeUrl === TypeUrl.cluster && r.name === `outbound|9080||${m.host}`)!;
    expect(cluster.message.transport_socket).toBeDefined();
    expect(cluster.sources).toContainEqual(expect.objectContaining({ kind: 'ServiceEntry' }));
  });

  it('authorization becomes RBAC filters before the router of every server listener', () => {
    const { resources } = generate([policy('allow-frontend', { authorization: { action: 'ALLOW', rules: [{ from: [{ principals: ['cluster.local/ns/a/sa/frontend'] }] }] } })]);
    const listener = find(resources, TypeUrl.listener, inboundListenerName('127.0.0.2', 50051));
    expect(checkMessage(TypeUrl.listener, listener)).toEqual([]);
    const hcm = ((listener.filter_chains as ProtoMessage[])[0]!.filters as ProtoMessage[])[0]!.typed_config as ProtoMessage;
    expect((hcm.http_filters as ProtoMessage[]).map((f) => f.name)).toEqual(['weft.rbac.allow', 'envoy.filters.http.router']);
  });

  it('a MeshPolicy change recomputes the hosts of its namespace, and only those', () => {
    const { m, store } = generate([]);
    expect([...store.hostsAffectedBy({ kind: 'MeshPolicy', obj: policy('p', { mtls: { mode: 'STRICT' } }) })]).toEqual([m.host]);
    const elsewhere = { ...policy('p', { mtls: { mode: 'STRICT' } }), metadata: { name: 'p', namespace: 'other' } };
    expect(store.hostsAffectedBy({ kind: 'MeshPolicy', obj: elsewhere }).size).toBe(0);
  });
});
