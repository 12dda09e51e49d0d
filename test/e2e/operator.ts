// Runs the real operator (dist/main.js) as child processes against the e2e cluster, authenticated as the
// operator's own ServiceAccount (so missing RBAC shows), and reads its metrics.
import * as k8s from '@kubernetes/client-node';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { OPERATOR_NODE_OPTIONS } from '../../src/install/operator-chart.js';
import { eventually } from './kube.js';

export const repoRoot = join(import.meta.dirname, '..', '..');

/** The kubectl built with the cluster (the machine's may be an old dispatcher), else the one on PATH. */
export function kubectlPath(): string {
  const version = /K8S_VERSION=(\S+)/.exec(readFileSync(join(repoRoot, 'hack/cluster/versions.env'), 'utf8'))![1];
  const cache = process.env.WEFT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'weft');
  const built = join(cache, `k8s-${version}`, 'bin', 'kubectl');
  return existsSync(built) ? built : 'kubectl';
}

export function kubectl(...args: string[]): string {
  return execFileSync(kubectlPath(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Waits until the samples' namespace is gone or active. Suites delete weft-demo without waiting; applying into it
 * while it terminates patches objects that the namespace controller then removes under the next suite.
 */
export async function samplesNamespaceSettled(): Promise<void> {
  await eventually('namespace weft-demo to be gone or active', async () => {
    let phase: string;
    try {
      phase = kubectl('get', 'namespace', 'weft-demo', '-o', 'jsonpath={.status.phase}');
    } catch {
      phase = 'gone';
    }
    return phase === 'Terminating' ? undefined : true;
  }, 120_000, 500);
}

/** `kubectl apply -f manifests/` (what a user runs), then waits for the CRDs to be served. */
export function installManifests(): void {
  kubectl('apply', '-f', join(repoRoot, 'manifests'));
  kubectl('wait', '--for=condition=Established', 'crd', '-l', 'app.kubernetes.io/part-of=weft', '--timeout=60s');
}

/** A kubeconfig that authenticates as weft-system/weft-operator with a TokenRequest-issued token. */
export async function operatorKubeconfig(kc: k8s.KubeConfig): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const token = await core.createNamespacedServiceAccountToken({
    namespace: 'weft-system',
    name: 'weft-operator',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = kc.getCurrentCluster()!;
  const caData = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: cluster.server, 'certificate-authority-data': caData } }],
    users: [{ name: 'weft-operator', user: { token: token.status!.token } }],
    contexts: [{ name: 'weft-operator', context: { cluster: 'e2e', user: 'weft-operator' } }],
    'current-context': 'weft-operator',
  };
  const path = join(mkdtempSync(join(tmpdir(), 'weft-operator-')), 'kubeconfig');
  writeFileSync(path, YAML.stringify(config), { mode: 0o600 });
  return path;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningOperator {
  identity: string;
  metricsPort: number;
  process: ChildProcess;
  /** Everything the process wrote so far (JSON log lines). */
  output(): string;
  metrics(): Promise<string>;
  /** Value of one sample, e.g. metric('leader_election_master_status'); undefined if absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `extraArgs` are appended to the command line. The CA's TLS port defaults to a free loopback port here, so
 * several replicas can run on one host.
 */
export async function startOperator(kubeconfig: string, identity: string, extraArgs: string[] = []): Promise<RunningOperator> {
  const main = join(repoRoot, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run make build (make test-e2e does)`);
  const metricsPort = await freePort();
  // The node flags manifests/ give the Deployment (NODE_OPTIONS), so e2e runs the operator as installed.
  const child = spawn(process.execPath, [...OPERATOR_NODE_OPTIONS.split(' ').filter(Boolean), main, 'operator', '--leader-elect', `--metrics-port=${metricsPort}`, `--identity=${identity}`, `--kubeconfig=${kubeconfig}`, '--ca-port=0', '--ca-host=127.0.0.1', ...extraArgs], {
    env: { ...process.env, WEFT_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const operator: RunningOperator = {
    identity,
    metricsPort,
    process: child,
    output: () => output,
    metrics,
    async metric(name, labels = {}) {
      const text = await metrics();
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
      }
      return undefined;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      // Graceful shutdown is bounded in the operator; a hung one must still not hang the suite.
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(kill);
    },
  };
  await eventually(`operator ${identity} to serve /healthz`, async () => {
    if (child.exitCode !== null) throw new Error(`operator ${identity} exited with ${child.exitCode}:\n${output}`);
    const res = await fetch(`http://127.0.0.1:${metricsPort}/healthz`).catch(() => undefined);
    return res?.ok ? true : undefined;
  }, 30_000);
  return operator;
}

/** The built CLI (`weft <verb>`), as a user runs it against the test's cluster; stdout, and stderr when it fails. */
export async function weftCli(...args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'dist', 'main.js'), ...args, `--kubeconfig=${process.env.KUBECONFIG}`], { encoding: 'utf8' });
    return { stdout, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: `${e.stdout}${e.stderr}`, code: e.code };
  }
}

/** An operator replica (startOperator's `extraArgs`) that holds the Lease: the one that writes status. */
export async function startLeader(kc: k8s.KubeConfig, identity: string, extraArgs: string[] = []): Promise<RunningOperator> {
  const operator = await startOperator(await operatorKubeconfig(kc), identity, extraArgs);
  await eventually(`operator ${identity} to lead`, async () => ((await operator.metric('leader_election_master_status')) === 1 ? true : undefined), 60_000);
  return operator;
}
