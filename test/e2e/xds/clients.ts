// Proxyless gRPC clients (grpc-js-xds), each in a child process with its own bootstrap pointing at the operator's
// xDS port, driven over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { CallResult } from './client-process.js';

export type { CallResult };

export interface ClientOptions {
  xdsPort: number;
  /** `host:port` to dial as xds:///host:port. */
  target: string;
  nodeId: string;
  /** Point the client at another xDS server (e.g. a delta bridge) instead of the operator. */
  serverUri?: string;
  /** The node's locality (locality load balancing reads it); `{zone: 'e2e'}` by default. */
  locality?: { region?: string; zone?: string; sub_zone?: string };
  /** "Pod IPs" (in EndpointSlices) and the loopback addresses that serve them: see client-process.ts. */
  podNetwork?: Record<string, string>;
}

export interface RunOptions {
  concurrency?: number;
  path?: string;
  metadata?: Record<string, string>;
  sleepMs?: number;
  deadlineMs?: number;
}

export class XdsClient {
  private nextId = 1;
  private readonly pending = new Map<number, (results: CallResult[]) => void>();
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { id: number; results: CallResult[] }) => {
      this.pending.get(m.id)?.(m.results);
      this.pending.delete(m.id);
    });
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
  }

  static async start(options: ClientOptions): Promise<XdsClient> {
    const bootstrap = {
      xds_servers: [{ server_uri: options.serverUri ?? `127.0.0.1:${options.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: options.nodeId, cluster: 'e2e', locality: options.locality ?? { zone: 'e2e' }, metadata: { GENERATOR: 'grpc' } },
    };
    const child = fork(join(import.meta.dirname, 'client-process.ts'), [], {
      env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap), XDS_TARGET: options.target, XDS_POD_NETWORK: JSON.stringify(options.podNetwork ?? {}), NODE_OPTIONS: '' },
      execArgv: ['--no-warnings'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const client = new XdsClient(child);
    await new Promise<void>((resolve, reject) => {
      client.pending.set(0, () => resolve());
      child.once('exit', (code) => reject(new Error(`client process exited (${code}): ${client.output}`)));
    });
    return client;
  }

  private send(command: object): Promise<CallResult[]> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ ...command, id });
    });
  }

  /** Runs `count` RPCs (sequentially unless `concurrency`), returns how each went. */
  run(count: number, options: RunOptions = {}): Promise<CallResult[]> {
    return this.send({ op: 'run', count, concurrency: options.concurrency ?? 1, ...options });
  }

  /** Starts a background stream of RPCs; loopStop() ends it and returns every result. */
  async loopStart(concurrency = 2): Promise<void> {
    await this.send({ op: 'loop-start', concurrency });
  }

  loopStop(): Promise<CallResult[]> {
    return this.send({ op: 'loop-stop' });
  }

  logs(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill();
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 10_000); // a stuck child must not hang the suite
    await exited;
    clearTimeout(kill);
  }
}

/** RPCs per backend name (failures under `error:<code>`). */
export function tally(results: CallResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const key = r.code === 0 ? r.backend! : `error:${r.code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * `observed` of `total` weighted picks land within five standard deviations of `share` (binomial): a correct split
 * fails this about once in two million checks, while at 2000 picks a weight that is 10 points off (e.g. 80/20
 * served for 70/30) still fails it. A fixed ±5 points at 1000 picks was under 4 deviations and failed CI.
 */
export function expectShare(observed: number, total: number, share: number): void {
  const tolerance = 5 * Math.sqrt((share * (1 - share)) / total);
  const seen = observed / total;
  if (Math.abs(seen - share) > tolerance) {
    throw new Error(`${observed} of ${total} (${(seen * 100).toFixed(1)}%) is not ${(share * 100).toFixed(0)}% within ±${(tolerance * 100).toFixed(1)} points`);
  }
}
