// The operator as a user installs and runs it: `kubectl apply -f manifests/`, the process authenticated as its
// own ServiceAccount, two replicas with leader election. Asserts what a user sees through kubectl and /metrics.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { installManifests, kubectl, samplesNamespaceSettled, operatorKubeconfig, repoRoot, startOperator, type RunningOperator } from './operator.js';

type Obj = { metadata: k8s.V1ObjectMeta & { generation?: number }; status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason: string; message: string; observedGeneration?: number }> } };

const kc = kubeConfig();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
const SAMPLES_NS = 'weft-demo';
const plural: Record<string, string> = {
  MeshPolicy: 'meshpolicies', VirtualService: 'virtualservices', DestinationRule: 'destinationrules',
  Gateway: 'gateways', ServiceEntry: 'serviceentries', WorkloadEntry: 'workloadentries',
};

const get = (kind: string, namespace: string, name: string) =>
  custom.getNamespacedCustomObject({ group: 'weft.dev', version: 'v1alpha1', namespace, plural: plural[kind]!, name }) as Promise<Obj>;
const create = (namespace: string, body: Record<string, unknown> & { kind: string }) =>
  custom.createNamespacedCustomObject({ group: 'weft.dev', version: 'v1alpha1', namespace, plural: plural[body.kind]!, body: { apiVersion: 'weft.dev/v1alpha1', ...body } });
const condition = (obj: Obj, type: string) => obj.status?.conditions?.find((c) => c.type === type);

/**
 * Waits until `kind/name` has condition `type` with `status` (and `reason`, if given) for its current generation.
 * Informers of different kinds see changes in any order, so a verdict may pass through other reasons first.
 */
function conditionOf(kind: string, namespace: string, name: string, type: string, status: string, reason?: string, timeoutMs = 30_000): Promise<Obj> {
  return eventually(`${kind} ${namespace}/${name} ${type}=${status}${reason ? ` (${reason})` : ''}`, async () => {
    const obj = await get(kind, namespace, name);
    const c = condition(obj, type);
    const matches = c?.status === status && (reason === undefined || c.reason === reason);
    return matches && c!.observedGeneration === obj.metadata.generation ? obj : undefined;
  }, timeoutMs);
}

const serviceEntry = (host: string) => ({
  kind: 'ServiceEntry', metadata: { name: 'ratings' },
  spec: { hosts: [host], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [{ number: 9080, name: 'grpc', protocol: 'GRPC' }], endpoints: [{ address: '127.0.0.5', labels: { version: 'v3' } }] },
});
const canary = (name: string, host: string, subset: string) => ({
  kind: 'VirtualService', metadata: { name },
  spec: { hosts: [host], http: [{ route: [{ destination: { host, subset } }] }] },
});

let kubeconfig: string;
let leader: RunningOperator | undefined;
let follower: RunningOperator | undefined;
const namespaces: Array<{ remove: () => Promise<void> }> = [];

beforeAll(async () => {
  await samplesNamespaceSettled(); // the suite before may have just deleted it; the first test applies into it
  installManifests();
  kubeconfig = await operatorKubeconfig(kc);
  leader = await startOperator(kubeconfig, 'operator-a');
  await eventually('operator-a to lead', async () => ((await leader!.metric('leader_election_master_status')) === 1 ? true : undefined), 30_000);
}, 240_000);

afterAll(async () => {
  await leader?.stop();
  await follower?.stop();
  for (const ns of namespaces) await ns.remove();
  kubectl('delete', 'namespace', SAMPLES_NS, '--ignore-not-found', '--wait=false');
});

describe('the operator, installed from manifests/ and run as its ServiceAccount', () => {
  it('reconciles the samples of all six kinds to Ready=True, visible in kubectl', async () => {
    kubectl('apply', '-f', join(repoRoot, 'config', 'samples'));
    const samples: Array<[string, string]> = [
      ['ServiceEntry', 'reviews'], ['WorkloadEntry', 'reviews-v1'], ['WorkloadEntry', 'reviews-v2'], ['DestinationRule', 'reviews'],
      ['Gateway', 'reviews-gateway'], ['VirtualService', 'reviews'], ['MeshPolicy', 'default'],
    ];
    for (const [kind, name] of samples) {
      const obj = await conditionOf(kind, SAMPLES_NS, name, 'Ready', 'True');
      expect(condition(obj, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
      expect(obj.status!.observedGeneration).toBe(obj.metadata.generation);
    }
    const table = kubectl('get', 'weft', '-n', SAMPLES_NS);
    for (const [kind, name] of samples) expect(table).toMatch(new RegExp(`${kind.toLowerCase()}\\.weft\\.dev/${name}\\s.*\\bTrue\\s+Ready\\b`));
    const described = kubectl('describe', 'virtualservices.weft.dev', 'reviews', '-n', SAMPLES_NS);
    expect(described).toMatch(/Type:\s+Accepted[\s\S]*Status:\s+True/);
    await eventually('the Accepted event in kubectl describe', async () =>
      /Normal\s+Accepted\s+.*weft\.dev\/operator/.test(kubectl('describe', 'virtualservices.weft.dev', 'reviews', '-n', SAMPLES_NS)) ? true : undefined);
  });

  it('reports a missing subset precisely and flips to Accepted when the DestinationRule appears, without touching the VirtualService', async () => {
    const ns = await throwawayNamespace(kc, 'subset');
    namespaces.push(ns);
    const host = `ratings.${ns.name}.svc.cluster.local`;
    await create(ns.name, serviceEntry(host));
    await create(ns.name, canary('ratings', host, 'v3'));
    const refused = await conditionOf('VirtualService', ns.name, 'ratings', 'Accepted', 'False', 'SubsetNotFound');
    expect(condition(refused, 'Accepted')).toMatchObject({
      reason: 'SubsetNotFound',
      message: `spec.http[0].route[0].destination.subset: subset v3 of host ${host} is not defined: no DestinationRule for host ${host}`,
    });
    expect(condition(refused, 'Ready')).toMatchObject({ status: 'False', reason: 'SubsetNotFound' });
    await eventually('the SubsetNotFound warning event', async () =>
      /Warning\s+SubsetNotFound/.test(kubectl('describe', 'virtualservices.weft.dev', 'ratings', '-n', ns.name)) ? true : undefined);

    await create(ns.name, { kind: 'DestinationRule', metadata: { name: 'ratings' }, spec: { host, subsets: [{ name: 'v3', labels: { version: 'v3' } }] } });
    const accepted = await conditionOf('VirtualService', ns.name, 'ratings', 'Accepted', 'True');
    expect(accepted.metadata.generation).toBe(refused.metadata.generation); // the spec was never edited
    expect(condition(accepted, 'Ready')!.status).toBe('True');
  });

  it('exposes controller-runtime metrics for reconciles and work queues', async () => {
    const op = leader!;
    expect(await op.metric('controller_runtime_reconcile_total', { controller: 'virtualservice', result: 'success' })).toBeGreaterThan(0);
    expect(await op.metric('controller_runtime_reconcile_errors_total', { controller: 'virtualservice' })).toBeDefined();
    expect(await op.metric('controller_runtime_max_concurrent_reconciles', { controller: 'virtualservice' })).toBe(2);
    expect(await op.metric('workqueue_depth', { name: 'virtualservice' })).toBe(0); // idle: everything reconciled
    expect(await op.metric('workqueue_adds_total', { name: 'virtualservice' })).toBeGreaterThan(0);
    expect(await op.metric('leader_election_master_status', { name: 'weft-operator-leader' })).toBe(1);
    const text = await op.metrics();
    expect(text).toMatch(/controller_runtime_reconcile_time_seconds_bucket\{[^}]*controller="virtualservice"/);
    expect(text).toMatch(/workqueue_queue_duration_seconds_bucket\{[^}]*name="destinationrule"/);
  });

  // Only a cluster this run started can have its API server restarted.
  const itOnOwnCluster = process.env.WEFT_E2E_OWNED_CLUSTER_DIR ? it : it.skip;
  itOnOwnCluster('keeps reconciling across an API server restart', async () => {
    execFileSync(join(repoRoot, 'hack/cluster/restart.sh'), ['kube-apiserver'], {
      env: { ...process.env, WEFT_CLUSTER_DIR: process.env.WEFT_E2E_OWNED_CLUSTER_DIR },
      stdio: 'inherit',
    });
    const ns = await throwawayNamespace(kc, 'restart');
    namespaces.push(ns);
    const host = `ratings.${ns.name}.svc.cluster.local`;
    await create(ns.name, serviceEntry(host));
    await create(ns.name, canary('after-restart', host, 'v9'));
    const obj = await conditionOf('VirtualService', ns.name, 'after-restart', 'Accepted', 'False', 'SubsetNotFound', 60_000);
    expect(condition(obj, 'Accepted')!.message).toContain('subset v9');
  }, 120_000);

  it('has exactly one leader, and a killed leader is replaced and the change made meanwhile is reconciled', async () => {
    follower = await startOperator(kubeconfig, 'operator-b');
    await eventually('operator-b to have synced', async () => ((await follower!.metric('leader_election_master_status')) === 0 ? true : undefined));
    const lease = await coordination.readNamespacedLease({ namespace: 'weft-system', name: 'weft-operator-leader' });
    expect(lease.spec!.holderIdentity).toBe('operator-a');
    expect(await leader!.metric('leader_election_master_status')).toBe(1);
    // The follower writes nothing: no reconcile has run there.
    expect(await follower.metric('controller_runtime_reconcile_total', { controller: 'virtualservice', result: 'success' })).toBeFalsy();

    const ns = await throwawayNamespace(kc, 'handover');
    namespaces.push(ns);
    const host = `ratings.${ns.name}.svc.cluster.local`;
    await leader!.stop('SIGKILL'); // no graceful release: the follower must wait out the lease
    const killedAt = Date.now();
    await create(ns.name, serviceEntry(host));
    await create(ns.name, canary('during-handover', host, 'v7'));

    await eventually('operator-b to take the lease', async () => {
      const l = await coordination.readNamespacedLease({ namespace: 'weft-system', name: 'weft-operator-leader' });
      return l.spec!.holderIdentity === 'operator-b' ? true : undefined;
    }, 40_000);
    const takeoverMs = Date.now() - killedAt;
    // Not before the dead leader's lease ran out (it renewed at most a retry period, 2 s, before the kill):
    // taking over sooner would mean two leaders. Not later than lease duration (15 s) + retry (2 s) + polling slack.
    expect(takeoverMs).toBeGreaterThan(15_000 - 2_000 - 1_000);
    expect(takeoverMs).toBeLessThan(15_000 + 2_000 + 5_000);
    const obj = await conditionOf('VirtualService', ns.name, 'during-handover', 'Accepted', 'False', 'SubsetNotFound');
    expect(condition(obj, 'Accepted')!.message).toContain('subset v7');
    expect(await follower.metric('leader_election_master_status')).toBe(1);
    leader = undefined;
  }, 90_000);
});
