// The operator's push and convergence metrics, as Prometheus would scrape them: the real operator (dist/main.js, as
// its own ServiceAccount, --xds-port), a real @grpc/grpc-js-xds client routed to backends on 127.0.0.x, and a
// VirtualService change made with kubectl. /metrics must then count the push that carried it and the generation's
// convergence (the client's ACK), and the client must really be on the new route.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, startLeader, type RunningOperator } from './operator.js';
import { startBackend, type Backend } from './xds/backends.js';
import { tally, XdsClient } from './xds/clients.js';
import { apply, destinationRule, serviceAccount, serviceEntry, split, virtualService, waitForCondition, workloadEntry } from './xds/mesh.js';

const kc = kubeConfig();
let ns: { name: string; remove: () => Promise<void> };
let operator: RunningOperator;
let xdsPort: number;
const backends: Backend[] = [];
let client: XdsClient | undefined;

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'metrics');
  apply(ns.name, serviceAccount('workload'));
  xdsPort = await freePort();
  operator = await startLeader(kc, 'metrics-operator', [`--xds-port=${xdsPort}`]);
}, 120_000);

afterAll(async () => {
  await client?.stop();
  await operator?.stop();
  for (const b of backends) await b.stop();
  await ns?.remove();
});

describe('push and convergence metrics', () => {
  it('counts the push of a VirtualService change and its convergence (kind="VirtualService") once the client ACKs it', async () => {
    const host = `reviews.${ns.name}.svc.cluster.local`;
    const [v1, v2] = [await startBackend('reviews-v1', '127.0.0.61'), await startBackend('reviews-v2', '127.0.0.62')];
    backends.push(v1, v2);
    apply(
      ns.name,
      serviceEntry('reviews', host),
      workloadEntry('reviews-v1', v1, { app: 'reviews', version: 'v1' }, 'workload'),
      workloadEntry('reviews-v2', v2, { app: 'reviews', version: 'v2' }, 'workload'),
      destinationRule('reviews', host),
      virtualService('reviews', host, split(host, 100, 0)),
    );
    await waitForCondition(ns.name, 'VirtualService', 'reviews', 'Programmed', 'True');
    client = await XdsClient.start({ xdsPort, target: `${host}:9080`, nodeId: 'metrics-client' });
    await eventually('RPCs to reach v1 through xDS', async () => {
      const counts = tally(await client!.run(20, { concurrency: 4, deadlineMs: 2000 }));
      return counts['reviews-v1'] === 20 ? true : undefined;
    }, 60_000, 500);
    await waitForCondition(ns.name, 'VirtualService', 'reviews', 'Programmed', 'True', (s) => s.synced === '1/1');
    expect(await operator.metric('weft_xds_connected_proxies', { replica: 'metrics-operator', kind: 'proxyless', protocol: 'sotw' })).toBe(1);
    const count = async (name: string, labels: Record<string, string>) => (await operator.metric(name, labels)) ?? 0;
    const pushesBefore = await count('weft_xds_push_duration_seconds_count', { trigger: 'hosts' });
    const convergedBefore = await count('weft_config_convergence_seconds_count', { kind: 'VirtualService' });

    apply(ns.name, virtualService('reviews', host, split(host, 0, 100)));
    await eventually('RPCs to move to v2', async () => {
      const counts = tally(await client!.run(20, { concurrency: 4, deadlineMs: 2000 }));
      return counts['reviews-v2'] === 20 ? true : undefined;
    }, 30_000, 200);

    const converged = await eventually('the convergence to be counted', async () => {
      const n = await count('weft_config_convergence_seconds_count', { kind: 'VirtualService' });
      return n > convergedBefore ? n : undefined;
    }, 10_000, 200);
    expect(converged).toBe(convergedBefore + 1); // one generation, one client
    expect(await count('weft_xds_push_duration_seconds_count', { trigger: 'hosts' })).toBeGreaterThan(pushesBefore);
    // Both measured in seconds, and a one-client change on an idle operator is well under the largest bucket.
    expect(await count('weft_config_convergence_seconds_bucket', { kind: 'VirtualService', le: '10' })).toBe(converged);
    expect(await operator.metrics()).toMatch(/^weft_xds_push_duration_seconds_sum\{trigger="hosts"\} \d/m);
    // Nothing left waiting once the pushes are out (other objects' status writes may still start one: eventually).
    await eventually('the debouncer to drain', async () =>
      /^weft_xds_debounce_pending\{replica="metrics-operator",trigger="hosts"\} 0$/m.test(await operator.metrics()) ? true : undefined, 10_000, 100);
  });
});
