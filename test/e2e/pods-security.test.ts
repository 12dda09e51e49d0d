// MeshPolicy STRICT and authorization by principal for a Pod behind a Service, on real traffic. kwok runs the Pod of
// Deployment `secure` (ServiceAccount backend, label app=secure): it has an IP but no process, so the test gives that
// IP a host of its own, a network namespace it makes (veth to this host), and runs there what the Pod would: its
// `weft agent` (the backend ServiceAccount's token) and a grpc-js-xds server. Weft knows the Pod only from the
// Service's EndpointSlice (its labels and ServiceAccount come from the Pod): the policy selects it by label, the
// server gets mTLS and RBAC, and clients with the frontend identity get through while another identity is denied.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { freePort, installManifests, kubectl, startLeader, weftCli, type RunningOperator } from './operator.js';
import { caPortOf, createServiceAccount, plaintextCall, serviceAccountToken, startAgent, startMeshWorkload, workloadCalls, type AgentRun } from './workloads.js';
import { apply, kubeService, waitForCondition, type Obj } from './xds/mesh.js';
import type { WorkloadCall } from './xds/mesh-workload-process.js';

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const NETNS = `weft-e2e-pod-${process.pid}`;
const HOST_SIDE = 'weft-e2e-h';
const POD_SIDE = 'weft-e2e-p';
const HOST_LINK = '169.254.123.1';
const POD_LINK = '169.254.123.2';
let ns: { name: string; remove: () => Promise<void> };
let podName = '';
let operator: RunningOperator;
let podIP: string;
let serverPort: number;
const processes: ChildProcess[] = [];
const agents: AgentRun[] = [];
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

async function workload(agent: AgentRun, env: Record<string, string>, prefix: string[] = []): Promise<ChildProcess> {
  const child = await startMeshWorkload(agent, env, prefix);
  processes.push(child);
  return child;
}
const calls = (client: ChildProcess) => workloadCalls(client, '/weft.test.Echo/Call');
const all = (results: WorkloadCall[], code: number) => results.length > 0 && results.every((r) => r.code === code);

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'podsec');
  for (const sa of ['backend', 'frontend', 'other']) await createServiceAccount(kc, ns.name, sa);
  serverPort = await freePort();
  // The CA on every address: the Pod's agent reaches it from its namespace through the veth.
  operator = await startLeader(kc, 'podsec-operator', [`--xds-port=${await freePort()}`, '--ca-host=0.0.0.0']);
}, 120_000);

afterAll(async () => {
  for (const p of processes) p.kill();
  for (const a of agents) await a.stop();
  await operator?.stop();
  try {
    ip('netns', 'del', NETNS);
  } catch {
    // not made
  }
  try {
    ip('link', 'del', HOST_SIDE);
  } catch {
    // gone with the namespace
  }
  await ns?.remove();
});

describe('a Pod behind a Service under MeshPolicy STRICT and authorization by principal', () => {
  it('admits the allowed ServiceAccount over mTLS, denies another, refuses plaintext', async () => {
    const labels = { app: 'secure' };
    const deployment: Obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'secure' },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { serviceAccountName: 'backend', containers: [{ name: 'secure', image: 'registry.k8s.io/pause:3.10' }] } } },
    };
    apply(
      ns.name,
      kubeService('secure', labels, serverPort),
      deployment,
      { kind: 'MeshPolicy', metadata: { name: 'secure' }, spec: { selector: { matchLabels: labels }, mtls: { mode: 'STRICT' }, authorization: { action: 'ALLOW', rules: [{ from: [{ principals: [`cluster.local/ns/${ns.name}/sa/frontend`] }] }] } } },
    );
    await waitForCondition(ns.name, 'MeshPolicy', 'secure', 'Ready', 'True', () => true, 60_000);
    const pod = await eventually('the Pod\'s IP', async () => {
      const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=secure' });
      return pods.items.find((p) => p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, 60_000);
    podIP = pod.status!.podIP!;
    podName = pod.metadata!.name!;

    // The Pod's host: a network namespace holding the Pod's IP, linked to this host.
    ip('netns', 'add', NETNS);
    ip('link', 'add', HOST_SIDE, 'type', 'veth', 'peer', 'name', POD_SIDE);
    ip('link', 'set', POD_SIDE, 'netns', NETNS);
    ip('addr', 'add', `${HOST_LINK}/30`, 'dev', HOST_SIDE);
    ip('link', 'set', HOST_SIDE, 'up');
    const inPod = (...args: string[]) => ip('netns', 'exec', NETNS, 'ip', ...args);
    inPod('link', 'set', 'lo', 'up');
    inPod('addr', 'add', `${POD_LINK}/30`, 'dev', POD_SIDE);
    inPod('addr', 'add', `${podIP}/32`, 'dev', POD_SIDE);
    inPod('link', 'set', POD_SIDE, 'up');
    inPod('route', 'add', 'default', 'via', HOST_LINK);
    ip('route', 'add', `${podIP}/32`, 'via', POD_LINK, 'dev', HOST_SIDE);

    const caPort = await caPortOf(operator);
    const roots = await eventually('the trust bundle', async () => (await core.readNamespacedConfigMap({ namespace: ns.name, name: 'weft-root-ca' }).catch(() => undefined))?.data?.['root-cert.pem'], 60_000);
    const prefix = ['ip', 'netns', 'exec', NETNS];
    const podAgent = startAgent({ caPort, caHost: HOST_LINK, prefix, token: await serviceAccountToken(kc, ns.name, 'backend'), rootsPem: roots, extraArgs: [`--pod-ip=${podIP}`, `--pod-name=${podName}`, '--refresh-interval=1s'] });
    agents.push(podAgent);
    await workload(podAgent, { WORKLOAD_ROLE: 'server', WORKLOAD_ADDRESS: `${podIP}:${serverPort}` }, prefix);

    const host = `secure.${ns.name}.svc.cluster.local:9080`;
    const client = async (sa: string, address: string) => {
      const agent = startAgent({ caPort, token: await serviceAccountToken(kc, ns.name, sa), rootsPem: roots, extraArgs: [`--pod-ip=${address}`, `--pod-name=${sa}-0`, '--refresh-interval=1s'] });
      agents.push(agent);
      return workload(agent, { WORKLOAD_ROLE: 'client', WORKLOAD_TARGET: host });
    };
    const frontend = await client('frontend', '127.0.0.52');
    const other = await client('other', '127.0.0.53');

    const admitted = await eventually('frontend to be admitted over mTLS', async () => {
      const results = await calls(frontend);
      return all(results, 0) ? results : undefined;
    }, 90_000, 500);
    // The server saw the caller's SPIFFE ID: mutual TLS with the frontend's certificate.
    expect(admitted.map((r) => r.peer)).toEqual(Array(5).fill(`spiffe://cluster.local/ns/${ns.name}/sa/frontend`));
    const denied = await eventually('the other identity to be denied', async () => {
      const results = await calls(other);
      return all(results, grpc.status.PERMISSION_DENIED) ? results : undefined;
    }, 60_000, 500);
    expect(denied[0]!.details).toMatch(/Unauthorized RPC rejected/);
    expect((await plaintextCall(`${podIP}:${serverPort}`)).code).toBe(grpc.status.UNAVAILABLE);
  }, 300_000);

  it("kubectl weft describe pod and config-dump show the Pod's policy and what its proxy holds", async () => {
    // Replicas publish which proxies they hold every few seconds: the Pod's shows once its replica's summary has it.
    const proxyLine = new RegExp(`Proxy: \\S*${podName}\\S* \\(proxyless\\) on replica podsec-operator`);
    const described = await eventually("the Pod's proxy in describe", async () => {
      const out = (await weftCli('describe', 'pod', podName, '-n', ns.name)).stdout;
      return proxyLine.test(out) ? out : undefined;
    }, 30_000, 500);
    expect(described).toContain(`Host: secure.${ns.name}.svc.cluster.local  (via Service ${ns.name}/secure)`);
    expect(described).toMatch(new RegExp(`MeshPolicy ${ns.name}/secure \\(Accepted True.*scope workload`));
    expect(described).toContain(`mTLS: STRICT (from ${ns.name}/secure)`);
    expect(described).toMatch(/lds: SYNCED/);

    const dump = await weftCli('config-dump', `${ns.name}/${podName}`, '-o', 'json');
    expect(dump.code).toBe(0);
    const text = dump.stdout;
    // Its inbound listener carries the policy (mTLS and RBAC from MeshPolicy secure); its key never leaves the replica.
    expect(text).toContain(`"kind": "MeshPolicy"`);
    expect(text).not.toMatch(/BEGIN (EC |RSA )?PRIVATE KEY/);
  }, 120_000);
});
