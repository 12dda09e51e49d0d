// Per-placement EDS through the config builder: proxies in one locality share one encoded assignment, proxies
// elsewhere get theirs, a change reaches only the placements whose assignment changed, and clusters without
// locality load balancing stay in the shared collections.
import { describe, expect, it } from '@jest/globals';
import type { DestinationRule } from '../api/index.js';
import { memoryInputs, MeshModelStore } from '../mesh/model/index.js';
import { destinationRule, edited, serviceAccount, serviceEntry, workloadEntry } from '../mesh/model/testing.js';
import { ResourceCache, type ChangeSet } from './cache.js';
import { ConfigBuilder, PROXYLESS_COLLECTION } from './config-builder.js';
import { LocalityEndpoints } from './locality-endpoints.js';
import { decodeResource, type ProtoMessage } from './resource.js';
import { TypeUrl } from './protos.js';
import { proxyFromNode } from './server/proxy.js';

const HOST = 'echo.shop.svc.cluster.local';
const CLUSTER = `outbound|9080||${HOST}`;

function setup(trafficPolicy: NonNullable<DestinationRule['spec']['trafficPolicy']>) {
  const rule = destinationRule('echo', 'shop', 'echo', { trafficPolicy });
  const objects = {
    serviceAccounts: [serviceAccount('echo', 'shop')],
    serviceEntries: [serviceEntry('echo', 'shop', HOST)],
    workloadEntries: [
      workloadEntry('echo-a', 'shop', '127.0.0.2', { app: 'echo' }, { locality: 'us/zone-a' }),
      workloadEntry('echo-b', 'shop', '127.0.0.3', { app: 'echo' }, { locality: 'us/zone-b' }),
    ],
    destinationRules: [rule],
  };
  const model = new MeshModelStore(memoryInputs(objects));
  const cache = new ResourceCache();
  const builder = new ConfigBuilder(cache, model);
  builder.update(model.rebuildAll());
  const client = (id: string, zone: string, kind: 'grpc' | 'envoy' = 'grpc', labels?: Record<string, string>) =>
    builder.viewFor(
      proxyFromNode({
        id: kind === 'grpc' ? id : `sidecar~127.0.1.${id.length}~${id}.shop~shop.svc.cluster.local`,
        cluster: '',
        locality: { region: 'us', zone, sub_zone: '' },
        metadata: { ...(kind === 'grpc' ? { GENERATOR: 'grpc' } : {}), ...(labels ? { LABELS: labels } : {}) },
        user_agent_name: kind === 'grpc' ? 'gRPC Node Pure JS' : 'envoy',
      }),
    );
  return { rule, objects, model, cache, builder, client };
}

/** `address@priority` per endpoint of an assignment. */
function priorities(message: ProtoMessage): string[] {
  const groups = message.endpoints as Array<{ priority?: number; lb_endpoints: Array<{ endpoint: { address: { socket_address: { address: string } } } }> }>;
  return groups.flatMap((g) => g.lb_endpoints.map((e) => `${e.endpoint.address.socket_address.address}@${g.priority ?? 0}`));
}

describe('EDS per placement', () => {
  it('gives each zone its own priorities, computed once and shared by proxies in the zone (proxyless and Envoy alike)', () => {
    const { cache, client } = setup({ outlierDetection: { consecutive5xxErrors: 1 } });
    expect(cache.collection(PROXYLESS_COLLECTION).get(TypeUrl.endpoint, CLUSTER)).toBeUndefined(); // not in the shared collection
    const a1 = client('a1', 'zone-a');
    const a2 = client('a2', 'zone-a');
    const sidecarA = client('sidecar-a', 'zone-a', 'envoy');
    const b = client('b', 'zone-b');
    const inA = a1.view.get(TypeUrl.endpoint, CLUSTER)!;
    expect(priorities(decodeResource(inA))).toEqual(['127.0.0.2@0', '127.0.0.3@1']);
    expect(priorities(decodeResource(b.view.get(TypeUrl.endpoint, CLUSTER)!))).toEqual(['127.0.0.2@1', '127.0.0.3@0']);
    expect(a2.view.get(TypeUrl.endpoint, CLUSTER)).toBe(inA);
    expect(sidecarA.view.get(TypeUrl.endpoint, CLUSTER)).toBe(inA);
    for (const v of [a1, a2, sidecarA, b]) v.release();
    expect(cache.collectionKeys().filter((k) => k.startsWith('placement/'))).toEqual([]);
  });

  it("places a proxy by its node's labels: failoverPriority labels, and a zone label over the node's locality", () => {
    const { cache, client } = setup({ outlierDetection: { consecutive5xxErrors: 1 }, loadBalancer: { localityLbSetting: { failoverPriority: ['topology.kubernetes.io/zone', 'app'] } } });
    const echoInB = client('e1', 'zone-a', 'grpc', { app: 'echo', 'topology.kubernetes.io/zone': 'zone-b' });
    const sameLabels = client('e2', 'zone-a', 'grpc', { 'topology.kubernetes.io/zone': 'zone-b', app: 'echo' }); // the same, listed in another order
    const otherApp = client('o1', 'zone-a', 'grpc', { app: 'other', 'topology.kubernetes.io/zone': 'zone-b' });
    const noLabels = client('n1', 'zone-a');
    const assignment = (c: { view: { get(t: string, n: string): unknown } }) => priorities(decodeResource(c.view.get(TypeUrl.endpoint, CLUSTER) as never)).sort();
    expect(assignment(echoInB)).toEqual(['127.0.0.2@1', '127.0.0.3@0']); // zone-b from its labels, not the node's zone-a
    expect(echoInB.view).toBe(sameLabels.view);
    expect(otherApp.view).not.toBe(echoInB.view); // app is a failover priority: it places the proxy too
    expect(assignment(otherApp)).toEqual(['127.0.0.2@1', '127.0.0.3@0']);
    expect(assignment(noLabels)).toEqual(['127.0.0.2@0', '127.0.0.3@1']);
    for (const c of [echoInB, sameLabels, otherApp, noLabels]) c.release();
    expect(cache.collectionKeys().filter((k) => k.startsWith('placement/'))).toEqual([]);
  });

  it('tells apart localities that read the same when joined', () => {
    const localities = new LocalityEndpoints(new ResourceCache());
    const a = localities.acquire({ locality: { region: 'us', zone: 'a\nb', sub_zone: '' }, metadata: {} });
    const b = localities.acquire({ locality: { region: 'us\na', zone: 'b', sub_zone: '' }, metadata: {} });
    expect(a.key).not.toBe(b.key);
    a.release();
    b.release();
  });

  it('pushes a change only to the placements whose assignment changed', async () => {
    const { rule, objects, model, builder, client } = setup({
      loadBalancer: { localityLbSetting: { distribute: [{ from: 'us/zone-a', to: { 'us/zone-a': 80, 'us/zone-b': 20 } }, { from: 'us/zone-b', to: { 'us/zone-b': 100 } }] } },
    });
    const a = client('a', 'zone-a');
    const b = client('b', 'zone-b');
    const weights = (v: typeof a) => (decodeResource(v.view.get(TypeUrl.endpoint, CLUSTER)!).endpoints as Array<{ load_balancing_weight: { value: number } }>).map((g) => g.load_balancing_weight.value);
    expect(weights(a)).toEqual([80, 20]);
    expect(weights(b)).toEqual([100]);
    const seen = { a: [] as ChangeSet[], b: [] as ChangeSet[] };
    a.view.onChange((c) => seen.a.push(c));
    b.view.onChange((c) => seen.b.push(c));
    const changed = edited(rule, {
      host: 'echo',
      trafficPolicy: { loadBalancer: { localityLbSetting: { distribute: [{ from: 'us/zone-a', to: { 'us/zone-a': 80, 'us/zone-b': 20 } }, { from: 'us/zone-b', to: { 'us/zone-a': 50, 'us/zone-b': 50 } }] } } },
    });
    objects.destinationRules = [changed];
    builder.update(model.recompute(model.hostsAffectedBy({ kind: 'DestinationRule', obj: changed })));
    expect(weights(b)).toEqual([50, 50]);
    await Promise.resolve(); // views tell their streams once the update's task is done
    expect(seen.b.some((c) => c.get(TypeUrl.endpoint)?.has(CLUSTER))).toBe(true);
    expect(seen.a.some((c) => c.get(TypeUrl.endpoint)?.has(CLUSTER))).toBe(false);
    a.release();
    b.release();
  });

  it('moves a cluster back to the shared collections when locality load balancing is turned off', () => {
    const { rule, objects, model, builder, cache, client } = setup({ outlierDetection: { consecutive5xxErrors: 1 } });
    const a = client('a', 'zone-a');
    const off = edited(rule, { host: 'echo', trafficPolicy: { outlierDetection: { consecutive5xxErrors: 1 }, loadBalancer: { localityLbSetting: { enabled: false } } } });
    objects.destinationRules = [off];
    builder.update(model.recompute(model.hostsAffectedBy({ kind: 'DestinationRule', obj: off })));
    expect(priorities(decodeResource(a.view.get(TypeUrl.endpoint, CLUSTER)!))).toEqual(['127.0.0.2@0', '127.0.0.3@0']);
    expect(cache.collection(PROXYLESS_COLLECTION).get(TypeUrl.endpoint, CLUSTER)).toBeDefined();
    a.release();
  });

  it('sets locality_weighted_lb_config on Envoy clusters with distribute (gRPC weighs localities anyway)', () => {
    const { client } = setup({ loadBalancer: { localityLbSetting: { distribute: [{ from: '*', to: { us: 100 } }] } } });
    const sidecar = client('s', 'zone-a', 'envoy');
    const grpc = client('g', 'zone-a');
    expect(decodeResource(sidecar.view.get(TypeUrl.cluster, CLUSTER)!).common_lb_config).toEqual({ locality_weighted_lb_config: {} });
    expect(decodeResource(grpc.view.get(TypeUrl.cluster, CLUSTER)!).common_lb_config).toBeUndefined();
    sidecar.release();
    grpc.release();
  });
});
