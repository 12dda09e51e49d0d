// Locality load balancing with real traffic: the operator (dist/main.js, --xds-port) serves @grpc/grpc-js-xds
// clients whose bootstrap node says which zone they are in; gRPC backends on 127.0.0.x are WorkloadEntries with a
// `locality`. Failover: a client uses its own zone while it has endpoints, and the other zone once they are gone.
// distribute: a client in `from` splits its traffic by the rule's weights.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, startLeader, type RunningOperator } from './operator.js';
import { startBackend, type Backend } from './xds/backends.js';
import { tearDown } from './xds/teardown.js';
import { expectShare, tally, XdsClient, type CallResult } from './xds/clients.js';
import { apply, destinationRule, serviceAccount, serviceEntry, statusOf, waitForCondition, workloadEntry } from './xds/mesh.js';

const kc = kubeConfig();
let ns: { name: string; remove: () => Promise<void> };
let operator: RunningOperator;
let xdsPort: number;
const backends: Backend[] = [];
const clients: XdsClient[] = [];
/** The zone-a client of the distribute scenario (the last test reuses it). */
let distributeClient: XdsClient | undefined;

const hostOf = (name: string) => `${name}.${ns.name}.svc.cluster.local`;

/** A backend at `address` registered in `locality` (region/zone). */
async function zonedBackend(service: string, name: string, address: string, locality: string) {
  const b = await startBackend(name, address);
  backends.push(b);
  const entry = workloadEntry(name, b, { app: service }, 'workload');
  return { backend: b, entry: { ...entry, spec: { ...(entry.spec as object), locality } } };
}

async function client(target: string, nodeId: string, zone: string): Promise<XdsClient> {
  const c = await XdsClient.start({ xdsPort, target, nodeId, locality: { region: 'us', zone } });
  clients.push(c);
  return c;
}

/** Runs batches until `ok` holds for one (config still arriving, or failover in progress); returns that batch. */
function until(c: XdsClient, what: string, ok: (results: CallResult[]) => boolean, timeoutMs = 60_000): Promise<CallResult[]> {
  return eventually(what, async () => {
    const results = await c.run(40, { concurrency: 4, deadlineMs: 2000 });
    return ok(results) ? results : undefined;
  }, timeoutMs, 300);
}

const onlyOn = (names: string[]) => (results: CallResult[]) => results.every((r) => r.code === 0 && names.includes(r.backend!));

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'locality');
  apply(ns.name, serviceAccount('workload'));
  xdsPort = await freePort();
  operator = await startLeader(kc, 'locality-operator', [`--xds-port=${xdsPort}`]);
}, 120_000);

afterAll(() => tearDown({ clients, operator, backends, namespaces: [ns] }));

describe('locality load balancing with real grpc-js-xds clients', () => {
  it('keeps a client in its own zone, and fails over to the other zone when its zone’s backends stop', async () => {
    const host = hostOf('failover');
    const a1 = await zonedBackend('failover', 'zone-a-1', '127.0.0.61', 'us/zone-a');
    const a2 = await zonedBackend('failover', 'zone-a-2', '127.0.0.62', 'us/zone-a');
    const b1 = await zonedBackend('failover', 'zone-b-1', '127.0.0.63', 'us/zone-b');
    apply(
      ns.name,
      serviceEntry('failover', host),
      a1.entry,
      a2.entry,
      b1.entry,
      // Istio's default: with outlier detection, locality failover is on without any localityLbSetting.
      destinationRule('failover', host, { subsets: [], trafficPolicy: { outlierDetection: { consecutive5xxErrors: 3, interval: '1s', baseEjectionTime: '30s' } } }),
    );
    await waitForCondition(ns.name, 'DestinationRule', 'failover', 'Programmed', 'True');
    const inA = await client(`${host}:9080`, 'failover-a', 'zone-a');
    const inB = await client(`${host}:9080`, 'failover-b', 'zone-b');
    await until(inA, 'the zone-a client to be served in zone a', onlyOn(['zone-a-1', 'zone-a-2']));
    await until(inB, 'the zone-b client to be served in zone b', onlyOn(['zone-b-1']));

    const zoneA = tally(await inA.run(200, { concurrency: 4 }));
    expect(zoneA).toEqual({ 'zone-a-1': expect.any(Number), 'zone-a-2': expect.any(Number) });
    expect(zoneA['zone-a-1']! + zoneA['zone-a-2']!).toBe(200); // both zone-a backends, nothing across zones
    expect(tally(await inB.run(100, { concurrency: 4 }))).toEqual({ 'zone-b-1': 100 });

    // Zone a goes away: the zone-a client moves to zone b (priority 1) and keeps succeeding there.
    await a1.backend.stop();
    await a2.backend.stop();
    const stoppedAt = Date.now();
    await until(inA, 'the zone-a client to fail over to zone b', onlyOn(['zone-b-1']), 30_000);
    console.log(`locality failover: zone-a client served by zone b ${Date.now() - stoppedAt} ms after its zone stopped`);
    expect(tally(await inA.run(200, { concurrency: 4 }))).toEqual({ 'zone-b-1': 200 });
  });

  it('splits traffic from zone a 80/20 by a distribute rule (within ±5 points); a client outside `from` is not bound by it', async () => {
    const host = hostOf('distribute');
    const a = await zonedBackend('distribute', 'dist-a', '127.0.0.71', 'us/zone-a');
    const b = await zonedBackend('distribute', 'dist-b', '127.0.0.72', 'us/zone-b');
    const rule = (toA: number, toB: number) =>
      destinationRule('distribute', host, {
        subsets: [],
        trafficPolicy: { loadBalancer: { localityLbSetting: { distribute: [{ from: 'us/zone-a', to: { 'us/zone-a': toA, 'us/zone-b': toB } }] } } },
      });
    apply(ns.name, serviceEntry('distribute', host), a.entry, b.entry, rule(80, 20));
    await waitForCondition(ns.name, 'DestinationRule', 'distribute', 'Programmed', 'True');
    const inA = (distributeClient = await client(`${host}:9080`, 'distribute-a', 'zone-a'));
    const inC = await client(`${host}:9080`, 'distribute-c', 'zone-c');
    await until(inA, 'the zone-a client to reach both zones', (r) => r.every((x) => x.code === 0) && new Set(r.map((x) => x.backend)).size === 2);

    const counts = tally(await inA.run(2000, { concurrency: 8 }));
    console.log(`locality distribute 80/20 from zone a: ${JSON.stringify(counts)}`);
    expect(counts['dist-a']! + counts['dist-b']!).toBe(2000);
    expectShare(counts['dist-a']!, 2000, 0.8);

    // zone c matches no `from`: both localities at their own (equal) weights.
    await until(inC, 'the zone-c client to be served', (r) => r.every((x) => x.code === 0));
    const other = tally(await inC.run(400, { concurrency: 8 }));
    expect(other['dist-a']! + other['dist-b']!).toBe(400);
    expect(Math.abs(other['dist-a']! / 400 - 0.5)).toBeLessThanOrEqual(0.15);

    // The rule changes to 20/80: the zone-a client follows.
    apply(ns.name, rule(20, 80));
    await until(inA, 'the zone-a client to follow the new weights', (r) => r.filter((x) => x.backend === 'dist-b').length >= 24, 30_000);
    const after = tally(await inA.run(2000, { concurrency: 8 }));
    expectShare(after['dist-b']!, 2000, 0.8);
  });

  it('refuses weights that do not add up to 100, naming the field, and keeps serving the last accepted rule', async () => {
    const host = hostOf('distribute');
    apply(
      ns.name,
      destinationRule('distribute', host, {
        subsets: [],
        trafficPolicy: { loadBalancer: { localityLbSetting: { distribute: [{ from: 'us/zone-a', to: { 'us/zone-a': 70, 'us/zone-b': 20 } }] } } },
      }),
    );
    const status = await waitForCondition(ns.name, 'DestinationRule', 'distribute', 'Accepted', 'False');
    const accepted = status.conditions!.find((c) => c.type === 'Accepted')!;
    expect(accepted.reason).toBe('InvalidLocalityLbSetting');
    expect(accepted.message).toContain('spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: total locality weight 90 != 100');
    expect(statusOf(ns.name, 'DestinationRule', 'distribute').generation).toBeGreaterThan(1);
    // The last accepted (20/80) rule still serves.
    const counts = tally(await distributeClient!.run(500, { concurrency: 8 }));
    expect(counts['dist-b']! / 500).toBeGreaterThan(0.7);
  });
});
