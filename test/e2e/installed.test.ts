// The operator as `kubectl apply -f manifests/` installs it: started on this host (no kubelet here) with exactly the
// container args, env and ServiceAccount that the generated Deployment declares, read from manifests/ rather than
// re-typed. It must be ready, serve the CA and xDS on its authenticated port, give a workload's `weft agent` (its
// Pod's ServiceAccount token) a certificate and the workload's config through it, and answer as the injection webhook.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { TypeUrl } from '../../src/xds/protos.js';
import { AdsTestClient } from '../../src/xds/testing/ads-client.js';
import { eventually, kubeConfig, throwawayNamespace } from './kube.js';
import { installManifests, repoRoot } from './operator.js';
import { createServiceAccount, serviceAccountToken, startAgent, type AgentRun } from './workloads.js';
import { apply, serviceEntry } from './xds/mesh.js';

type Json = Record<string, any>;
const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
let ns: { name: string; remove: () => Promise<void> };
let operator: ChildProcess | undefined;
let output = '';
const agents: AgentRun[] = [];

/** The operator Deployment and Service as manifests/ declares them. */
function installed(): { deployment: Json; service: Json } {
  const docs = YAML.parseAllDocuments(readFileSync(join(repoRoot, 'manifests', 'weft-operator.yaml'), 'utf8')).map((d) => d.toJS() as Json);
  const find = (kind: string) => docs.find((d) => d.kind === kind && d.metadata?.namespace === 'weft-system')!;
  return { deployment: find('Deployment'), service: find('Service') };
}

/** A kubeconfig that authenticates as `namespace/serviceAccount` (what the in-cluster config gives the pod). */
async function kubeconfigFor(namespace: string, serviceAccount: string): Promise<string> {
  const token = await core.createNamespacedServiceAccountToken({ namespace, name: serviceAccount, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const cluster = kc.getCurrentCluster()!;
  const caData = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  const path = join(mkdtempSync(join(tmpdir(), 'weft-installed-')), 'kubeconfig');
  writeFileSync(
    path,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'e2e', cluster: { server: cluster.server, 'certificate-authority-data': caData } }],
      users: [{ name: serviceAccount, user: { token: token.status!.token } }],
      contexts: [{ name: 'pod', context: { cluster: 'e2e', user: serviceAccount } }],
      'current-context': 'pod',
    }),
    { mode: 0o600 },
  );
  return path;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

beforeAll(async () => {
  installManifests();
  ns = await throwawayNamespace(kc, 'installed');
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.stop();
  if (operator && operator.exitCode === null) {
    const exited = new Promise((resolve) => operator!.once('exit', resolve));
    operator.kill('SIGTERM');
    await exited;
  }
  await ns?.remove();
});

describe('the operator as manifests/ installs it', () => {
  it("runs with the Deployment's own args, env and ServiceAccount, and serves the CA and xDS on its authenticated port", async () => {
    const { deployment, service } = installed();
    const pod = deployment.spec.template.spec;
    const container = (pod.containers as Json[]).find((c) => c.name === 'operator')!;
    // The Service exposes what the container listens on: metrics and the authenticated xDS/CA port.
    const servicePorts = Object.fromEntries((service.spec.ports as Json[]).map((p) => [p.name, p.port]));
    const containerPorts = Object.fromEntries((container.ports as Json[]).map((p) => [p.name, p.containerPort]));
    expect(servicePorts).toEqual(containerPorts);
    expect(containerPorts['grpc-xds']).toBeDefined();
    // No plaintext xDS in the installed operator.
    expect((container.args as string[]).some((a) => a.startsWith('--xds-port'))).toBe(false);

    for (const [name, port] of Object.entries(containerPorts)) {
      if (!(await portFree(port as number))) throw new Error(`port ${port} (${name}) is taken on this host: the installed operator listens there`);
    }
    // The env as the kubelet would give it: field references resolved for a Pod of this Deployment.
    const fields: Record<string, string> = { 'metadata.name': 'weft-operator-e2e-0', 'metadata.namespace': deployment.metadata.namespace };
    const env = Object.fromEntries((container.env as Json[]).map((e) => [e.name, e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath]]));
    expect(Object.values(env).every((v) => typeof v === 'string')).toBe(true);
    const kubeconfig = await kubeconfigFor(deployment.metadata.namespace, pod.serviceAccountName);
    operator = spawn(process.execPath, [join(repoRoot, 'dist', 'main.js'), ...(container.args as string[])], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, KUBECONFIG: kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    operator.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    operator.stderr!.on('data', (c: Buffer) => (output += c.toString()));

    // Ready once its caches have synced (the Deployment's readiness probe asks the same).
    const metricsPort = containerPorts['http-metrics'] as number;
    const xdsPort = containerPorts['grpc-xds'] as number;
    await eventually('the installed operator to be ready', async () => {
      if (operator!.exitCode !== null) throw new Error(`the operator exited (${operator!.exitCode}):\n${output}`);
      const res = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined);
      return res?.ok ? true : undefined;
    }, 60_000);
    // The xDS server builds its first config right after the caches sync (what /readyz waits for).
    await eventually('xDS to serve on the authenticated port', async () => (output.includes('xDS serving on the authenticated port only') ? true : undefined), 30_000);

    // A workload: its ServiceAccount, a service it calls, and its agent with the Pod's token.
    await createServiceAccount(kc, ns.name, 'reviews');
    const host = `ratings.${ns.name}.svc.cluster.local`;
    apply(ns.name, serviceEntry('ratings', host));
    const roots = await eventually('the trust bundle', async () => (await core.readNamespacedConfigMap({ namespace: ns.name, name: 'weft-root-ca' }).catch(() => undefined))?.data?.['root-cert.pem'], 60_000);
    const agent = startAgent({ caPort: xdsPort, token: await serviceAccountToken(kc, ns.name, 'reviews'), rootsPem: roots, extraArgs: ['--pod-ip=127.0.0.91', '--pod-name=reviews-0'] });
    agents.push(agent);
    await eventually("the agent's certificate from the installed operator's CA", async () => (agent.output().includes('certificate written') ? true : undefined), 60_000);
    const certificate = readFileSync(join(agent.dir, 'cert-chain.pem'), 'utf8');
    expect(new (await import('node:crypto')).X509Certificate(certificate).subjectAltName).toContain(`URI:spiffe://cluster.local/ns/${ns.name}/sa/reviews`);

    // Through the agent's relay (TLS and the token to the operator's authenticated port), the workload's config.
    const bootstrap = JSON.parse(readFileSync(join(agent.dir, 'bootstrap.json'), 'utf8')) as { xds_servers: Array<{ server_uri: string }>; node: { id: string } & Json };
    const client = new AdsTestClient(bootstrap.xds_servers[0]!.server_uri);
    try {
      const listener = await eventually('the listener for ratings through the agent', async () => {
        const stream = client.sotw();
        try {
          stream.send({ type_url: TypeUrl.listener, resource_names: [`${host}:9080`], node: bootstrap.node });
          const response = await stream.next(10_000);
          return response.resources.find((r) => r.name === `${host}:9080`);
        } finally {
          stream.close();
        }
      }, 60_000, 500);
      expect(listener.name).toBe(`${host}:9080`);
    } finally {
      client.close();
    }

    // The injection webhook answers over TLS with a certificate the trust bundle verifies, for the Service's name.
    const webhookPort = containerPorts['https-webhook'] as number;
    const request = { uid: 'installed-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: ns.name, object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'app' }] } } };
    const answer = await new Promise<Json>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: webhookPort, path: '/inject', method: 'POST', ca: roots, servername: 'weft-operator.weft-system.svc', headers: { 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(JSON.parse(body) as Json));
        },
      );
      req.once('error', reject);
      req.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
    });
    expect(answer.response).toMatchObject({ uid: 'installed-1', allowed: true, patchType: 'JSONPatch' });
  }, 240_000);
});
