// Workloads for the CA and security e2e tests: ServiceAccount tokens from the real TokenRequest API, `weft agent` run
// from dist/ (once, or kept running), the operator's certificate service port, and mesh workload processes.
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { eventually } from './kube.js';
import { repoRoot, type RunningOperator } from './operator.js';
import type { WorkloadCall } from './xds/mesh-workload-process.js';

export const CA_AUDIENCE = 'weft-ca';

/** A TokenRequest token for `namespace/serviceAccount`, for `audiences` (the API server's minimum life is 10 min). */
export async function serviceAccountToken(kc: k8s.KubeConfig, namespace: string, serviceAccount: string, audiences = [CA_AUDIENCE]): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const response = await core.createNamespacedServiceAccountToken({ namespace, name: serviceAccount, body: { spec: { audiences, expirationSeconds: 600 } } });
  return response.status!.token!;
}

export async function createServiceAccount(kc: k8s.KubeConfig, namespace: string, name: string): Promise<void> {
  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
}

/**
 * A token that expired an hour ago, signed with the local control plane's ServiceAccount key, so the API server
 * itself refuses it as expired (TokenRequest cannot issue one). Undefined when the key is not at hand (kind).
 */
export function expiredServiceAccountToken(namespace: string, serviceAccount: string, uid: string): string | undefined {
  const keyPath = join(dirname(process.env.KUBECONFIG ?? ''), 'pki', 'sa.key');
  if (!existsSync(keyPath)) return undefined;
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = {
    iss: 'https://kubernetes.default.svc.cluster.local',
    sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    aud: [CA_AUDIENCE],
    iat: now - 7200,
    nbf: now - 7200,
    exp: now - 3600,
    'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount, uid } },
  };
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey(readFileSync(keyPath))).toString('base64url')}`;
}

/** The port the operator's certificate service listens on (it logs it once it has a serving certificate). */
export async function caPortOf(operator: RunningOperator): Promise<number> {
  return eventually('the CA TLS port in the operator log', async () => {
    const m = /"port":(\d+),"msg":"TLS gRPC server listening/.exec(operator.output());
    return m ? Number(m[1]) : undefined;
  }, 60_000);
}

export interface AgentRun {
  dir: string;
  output(): string;
  process: ChildProcess;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts `weft agent` from dist/ for a workload whose token and first roots are given. `caHost` is where it finds the
 * CA (127.0.0.1 by default); `prefix` runs it through another command (e.g. `ip netns exec <ns>`).
 */
export function startAgent(options: { caPort: number; token: string; rootsPem: string; once?: boolean; extraArgs?: string[]; caHost?: string; prefix?: string[] }): AgentRun {
  const dir = mkdtempSync(join(tmpdir(), 'weft-agent-'));
  writeFileSync(join(dir, 'token'), options.token, { mode: 0o600 });
  writeFileSync(join(dir, 'roots.pem'), options.rootsPem);
  const args = [
    join(repoRoot, 'dist', 'main.js'), 'agent',
    `--ca-address=${options.caHost ?? '127.0.0.1'}:${options.caPort}`,
    `--token-file=${join(dir, 'token')}`,
    `--root-cert=${join(dir, 'roots.pem')}`,
    `--output-dir=${join(dir, 'out')}`,
    // The xDS relay on a free loopback port (several agents share this host); the bootstrap names the bound one.
    '--xds-address=127.0.0.1:0',
    ...(options.once ? ['--once'] : []),
    ...(options.extraArgs ?? []),
  ];
  const [command, ...argv] = [...(options.prefix ?? []), process.execPath, ...args];
  const child = spawn(command!, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WEFT_LOG_LEVEL: 'debug' } });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    dir: join(dir, 'out'),
    output: () => output,
    process: child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000); // a stuck agent must not hang the suite
      await exited;
      clearTimeout(kill);
    },
  };
}

export function readOut(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8');
}

/**
 * A mesh workload process (xds/mesh-workload-process.ts: a grpc-js-xds server or client) configured through the
 * bootstrap `agent` wrote, once the agent has its first certificate; `prefix` runs it elsewhere (a network namespace).
 */
export async function startMeshWorkload(agent: AgentRun, env: Record<string, string>, prefix: string[] = []): Promise<ChildProcess> {
  await eventually("the agent's first certificate", async () => (agent.output().includes('certificate written') ? true : undefined), 60_000);
  const [command, ...argv] = [...prefix, process.execPath, '--no-warnings', join(import.meta.dirname, 'xds', 'mesh-workload-process.ts')];
  const child = spawn(command!, argv, {
    env: { ...process.env, ...env, GRPC_XDS_BOOTSTRAP: join(agent.dir, 'bootstrap.json'), GRPC_XDS_EXPERIMENTAL_RBAC: 'true', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const ready = await new Promise<{ ready: boolean; error?: string }>((resolve, reject) => {
    child.once('message', (m: { ready: boolean; error?: string }) => resolve(m));
    child.once('exit', (code) => reject(new Error(`workload exited (${code}): ${output}`)));
  });
  if (!ready.ready) throw new Error(`workload: ${ready.error}`);
  return child;
}

let nextCallId = 1;
/** `count` calls of `path` from a mesh workload client, as it reports them. */
export function workloadCalls(client: ChildProcess, path: string, count = 5): Promise<WorkloadCall[]> {
  const id = nextCallId++;
  return new Promise((resolve) => {
    const onMessage = (m: { id: number; results: WorkloadCall[] }) => {
      if (m.id !== id) return;
      client.off('message', onMessage);
      resolve(m.results);
    };
    client.on('message', onMessage);
    client.send({ id, path, count });
  });
}

/** One call from outside the mesh: plain gRPC, plaintext, straight to `address`. */
export function plaintextCall(address: string): Promise<WorkloadCall> {
  const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString() || '{}') as unknown };
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.makeUnaryRequest('/weft.test.Echo/Call', json.serialize, json.deserialize, {}, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (err, reply) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details } : { code: 0, peer: (reply as { peer: string }).peer });
    }),
  );
}
