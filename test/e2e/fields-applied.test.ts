// An accepted field Weft does not apply yet is reported, never silent: through the operator (dist/main.js, as its
// own ServiceAccount) on a real API server, a DestinationRule with loadBalancer.warmup (refused as an unknown field
// before parity) is Accepted and Ready, its FieldsApplied condition names the field and both client kinds, a
// Warning Event NotAppliedYet is recorded once for the generation, and dropping the field makes FieldsApplied True.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { installManifests, operatorKubeconfig, startOperator, type RunningOperator } from './operator.js';
import { apply, destinationRule, serviceEntry, statusOf, waitForCondition } from './xds/mesh.js';

const kc = kubeConfig();
const events = kc.makeApiClient(k8s.EventsV1Api);
let ns: { name: string; remove: () => Promise<void> };
let op: RunningOperator | undefined;

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'fields-applied');
  op = await startOperator(await operatorKubeconfig(kc), 'fields-applied');
}, 120_000);

afterAll(async () => {
  await op?.stop();
  await ns?.remove();
});

async function notAppliedEvents(name: string): Promise<k8s.EventsV1Event[]> {
  const list = await events.listNamespacedEvent({ namespace: ns.name });
  return list.items.filter((e) => e.regarding?.name === name && e.reason === 'NotAppliedYet');
}

describe('fields accepted but not applied yet', () => {
  it('a DestinationRule with warmup is Accepted and Ready, and FieldsApplied names the field, for Envoy and proxyless gRPC', async () => {
    const host = `ratings.${ns.name}.svc.cluster.local`;
    apply(ns.name, serviceEntry('ratings', host), destinationRule('ratings', host, { trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST', warmup: { duration: '30s' } } } }));
    const s = await waitForCondition(ns.name, 'DestinationRule', 'ratings', 'FieldsApplied', 'False', undefined, 60_000);
    const condition = (type: string) => s.conditions!.find((c) => c.type === type)!;
    expect(condition('Accepted').status).toBe('True');
    expect(condition('FieldsApplied').reason).toBe('NotAppliedYet');
    expect(condition('FieldsApplied').message).toContain('spec.trafficPolicy.loadBalancer.warmup (not applied yet for Envoy and proxyless gRPC: slow start (warmup) is not generated yet)');
    expect(condition('FieldsApplied').message).toContain('spec.trafficPolicy.loadBalancer.simple (not applied yet for proxyless gRPC');
    // Advisory: Ready is about being accepted and in force, which the rule is.
    await waitForCondition(ns.name, 'DestinationRule', 'ratings', 'Ready', 'True', undefined, 60_000);
    const warnings = await eventually('a NotAppliedYet Warning Event', async () => {
      const found = await notAppliedEvents('ratings');
      return found.length > 0 ? found : undefined;
    }, 30_000, 500);
    expect(warnings[0]!.type).toBe('Warning');
    expect(warnings[0]!.note).toContain('spec.trafficPolicy.loadBalancer.warmup');

    // Without the field, everything set is applied.
    apply(ns.name, destinationRule('ratings', host, { trafficPolicy: { connectionPool: { http: { http2MaxRequests: 100 } } } }));
    const after = await waitForCondition(ns.name, 'DestinationRule', 'ratings', 'FieldsApplied', 'True', undefined, 60_000);
    expect(after.conditions!.find((c) => c.type === 'FieldsApplied')!.reason).toBe('AllApplied');
    expect(statusOf(ns.name, 'DestinationRule', 'ratings').status.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
  });
});
