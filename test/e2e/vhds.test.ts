// Envoy sidecars on delta xDS get their outbound routes by VHDS, through the real API server and the operator
// (dist/main.js, as its ServiceAccount): the port's route configuration names no virtual hosts, the sidecar
// subscribes to its namespace and holds one virtual host per service, and a VirtualService change reaches it as
// that service's virtual host alone. The VirtualService's status counts the sidecar once it ACKs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { messageType, TypeUrl } from '../../src/xds/protos.js';
import { AdsTestClient, type DeltaResponse, type DeltaTestStream } from '../../src/xds/testing/ads-client.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, startLeader, type RunningOperator } from './operator.js';
import { apply, destinationRule, remove, serviceEntry, split, statusOf, virtualService } from './xds/mesh.js';

const kc = kubeConfig();
let ns: { name: string; remove: () => Promise<void> };
let operator: RunningOperator | undefined;
let ads: AdsTestClient | undefined;
let stream: DeltaTestStream | undefined;

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'vhds');
}, 120_000);

afterAll(async () => {
  stream?.close();
  ads?.close();
  await operator?.stop();
  await ns?.remove();
});

type WeightedRoute = { route?: { weighted_clusters?: { clusters: Array<{ name: string; weight: number | { value: number } }> } } };
const weights = (vhost: Record<string, unknown>) =>
  ((vhost.routes as WeightedRoute[])[0]!.route!.weighted_clusters!.clusters).map((c) => (typeof c.weight === 'number' ? c.weight : c.weight.value));

function accepts(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(undefined));
  });
}

/** The next response of `typeUrl` on the stream, ACKed; responses of other types on the way are ACKed too. */
async function nextOf(typeUrl: string): Promise<DeltaResponse> {
  for (;;) {
    const res = await stream!.next(30_000);
    stream!.ack(res);
    if (res.type_url === typeUrl) return res;
  }
}

/**
 * Virtual host names of this test's namespace: other tests' services on port 9080 are in the same route
 * configuration, and their namespaces are deleted in the background, so their removals may arrive at any time.
 */
const ours = (name: string) => name.endsWith(`.${ns.name}.svc.cluster.local`);

/** The next VirtualHost response that concerns this test's namespace, narrowed to it. */
async function nextOurs(): Promise<{ resources: DeltaResponse['resources']; removed: string[] }> {
  for (;;) {
    const res = await nextOf(TypeUrl.virtualHost);
    const resources = res.resources.filter((r) => ours(r.name));
    const removed = res.removed_resources.filter(ours);
    if (resources.length + removed.length > 0) return { resources, removed };
  }
}

/** How many responses arrive within `ms` that carry a route configuration or any of this namespace's virtual hosts. */
async function oursWithin(ms: number): Promise<number> {
  const until = Date.now() + ms;
  let count = 0;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) return count;
    const res = await stream!.next(left).catch(() => undefined);
    if (!res) return count;
    stream!.ack(res);
    if (res.type_url !== TypeUrl.virtualHost || res.resources.some((r) => ours(r.name)) || res.removed_resources.some(ours)) count++;
  }
}

describe('VHDS for Envoy sidecars on delta xDS', () => {
  it('sends a sidecar the virtual hosts of its port one by one, and a VirtualService change as one virtual host', async () => {
    const xdsPort = await freePort();
    operator = await startLeader(kc, 'vhds', [`--xds-port=${xdsPort}`]);
    const reviews = `reviews.${ns.name}.svc.cluster.local`;
    const ratings = `ratings.${ns.name}.svc.cluster.local`;
    apply(
      ns.name,
      serviceEntry('reviews', reviews),
      destinationRule('reviews', reviews),
      virtualService('reviews', reviews, split(reviews, 90, 10)),
      serviceEntry('ratings', ratings),
    );

    // The xDS port opens once the operator's caches are synced (later with a big mesh on the cluster).
    await eventually('the xDS port to accept connections', () => accepts(xdsPort), 60_000);
    ads = new AdsTestClient(`127.0.0.1:${xdsPort}`);
    stream = ads.delta();
    const node = { id: `sidecar~127.0.0.1~client.${ns.name}~${ns.name}.svc.cluster.local`, user_agent_name: 'envoy' };
    // As Envoy: routes for the outbound listener's RDS name, then the VHDS namespace the route configuration names.
    stream.send({ node, type_url: TypeUrl.route, resource_names_subscribe: ['9080'] });
    const rds = await nextOf(TypeUrl.route);
    expect(rds.resources.map((r) => r.name)).toEqual(['9080']);
    expect(rds.resources[0]!.message).toMatchObject({ name: '9080', vhds: { config_source: { ads: {} } } });
    expect(rds.resources[0]!.message.virtual_hosts ?? []).toEqual([]);

    stream.send({ type_url: TypeUrl.virtualHost, resource_names_subscribe: ['9080'] });
    const held = new Map<string, Record<string, unknown>>();
    await eventually('both services\' virtual hosts', async () => {
      const res = await nextOf(TypeUrl.virtualHost);
      for (const r of res.resources) held.set(r.name, r.message);
      return held.has(`9080/${reviews}`) && held.has(`9080/${ratings}`) ? true : undefined;
    }, 60_000, 0);
    expect(weights(held.get(`9080/${reviews}`)!)).toEqual([90, 10]);

    // The sidecar holds what is served: the VirtualService counts it.
    await eventually('the VirtualService to count the sidecar as synced', async () => {
      const { status } = statusOf(ns.name, 'VirtualService', 'reviews') as { status: { proxies?: { acked: number; expected: number } } };
      return status.proxies && status.proxies.expected >= 1 && status.proxies.acked === status.proxies.expected ? true : undefined;
    }, 60_000);

    apply(ns.name, virtualService('reviews', reviews, split(reviews, 50, 50)));
    const push = await nextOurs();
    expect(push.resources.map((r) => r.name)).toEqual([`9080/${reviews}`]);
    expect(push.removed).toEqual([]);
    expect(weights(push.resources[0]!.message)).toEqual([50, 50]);
    const vhostType = messageType(TypeUrl.virtualHost);
    expect(vhostType.encode(vhostType.fromObject(push.resources[0]!.message)).finish().length).toBeLessThan(5 * 1024);
    // Nothing else moved: no route configuration and no other virtual host of this namespace follows.
    expect(await oursWithin(1000)).toBe(0);

    // A service goes away: its virtual host is removed from the sidecar, the other stays.
    remove(ns.name, 'ServiceEntry', 'ratings');
    expect(await nextOurs()).toEqual({ resources: [], removed: [`9080/${ratings}`] });
  }, 180_000);
});
