// `make run` (hack/run.sh) against the e2e cluster, as a user runs it again and again: beside Istio's CRDs (same
// kinds and short names), with the CA's default port taken by another process, twice in a row, and with its
// operator killed right after it starts, when it must fail fast and show the operator's last log lines.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { kubectl, repoRoot, samplesNamespaceSettled } from './operator.js';

interface RunResult {
  code: number | null;
  output: string;
  seconds: number;
}

/** Runs hack/run.sh to the end (bounded); `onOutput` sees the output as it comes. */
function run(onOutput: (soFar: string, pid: number) => void = () => undefined, env: Record<string, string> = {}): Promise<RunResult> {
  const started = Date.now();
  const child = spawn(join(repoRoot, 'hack/run.sh'), [], {
    env: { ...process.env, ...env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const add = (chunk: Buffer) => {
    output += chunk.toString();
    onOutput(output, child.pid!);
  };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  const kill = setTimeout(() => child.kill('SIGKILL'), 240_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, output, seconds: (Date.now() - started) / 1000 });
    }),
  );
}

/** The operator a run left running, from the pid file it names. */
function stopLeftOperator(output: string): void {
  const pidFile = /kill \$\(cat (\S+)\)/.exec(output)?.[1];
  if (!pidFile || !existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
  } catch {
    // already gone
  }
}

const outputs: string[] = [];
let blocker: Server | undefined;

beforeAll(async () => {
  await samplesNamespaceSettled(); // run.sh applies the samples into it again
  kubectl('apply', '-f', join(repoRoot, 'test/e2e/fixtures/istio-crds.yaml'));
  kubectl('wait', '--for=condition=Established', 'crd', '-l', 'weft.dev/e2e-istio-stand-in=true', '--timeout=60s');
}, 180_000);

afterAll(async () => {
  for (const o of outputs) stopLeftOperator(o);
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  kubectl('delete', 'crd', '-l', 'weft.dev/e2e-istio-stand-in=true', '--ignore-not-found');
  kubectl('delete', 'namespace', 'weft-demo', '--ignore-not-found', '--wait=false');
});

describe('make run', () => {
  it('succeeds beside Istio\'s CRDs, addressing Weft\'s kinds by their full names', async () => {
    expect(kubectl('get', 'crd', 'virtualservices.networking.istio.io', '-o', 'name').trim()).toBe('customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io');
    const result = await run();
    outputs.push(result.output);
    expect(result.output).toContain('every object in weft-demo is Ready, judged and served by this operator');
    expect(result.output).toMatch(/100 calls to xds:\/\/\/reviews\.weft-demo\.svc\.cluster\.local:9080/);
    // The Pod demo: Deployments' Pods behind a Service, split by their version label.
    expect(result.output).toMatch(/200 calls to xds:\/\/\/ratings\.weft-demo\.svc\.cluster\.local:9080/);
    expect(result.output).toMatch(/v2 ratings-v2-\S+\s+\d+/);
    expect(result.code).toBe(0);
    console.log(`make run beside Istio's CRDs: ${result.seconds.toFixed(1)} s`);
  }, 300_000);

  it('succeeds again with the CA\'s default port 15012 taken, stopping the operator the first run left', async () => {
    blocker = createServer();
    await new Promise<void>((resolve, reject) => {
      blocker!.once('error', reject);
      blocker!.listen(15012, '127.0.0.1', () => resolve());
    });
    const result = await run();
    outputs.push(result.output);
    expect(result.output).toMatch(/stopping the operator an earlier make run started for this cluster \(pid \d+\)/);
    expect(result.output).toMatch(/CA 127\.0\.0\.1:\d+/);
    expect(result.output).not.toContain('CA 127.0.0.1:15012');
    expect(result.code).toBe(0);
  }, 300_000);

  it('fails within 30 s showing the operator\'s last log lines when the operator is killed right after it starts', async () => {
    let killed = false;
    const result = await run((soFar) => {
      const pid = /operator pid (\d+)/.exec(soFar)?.[1];
      if (pid && !killed) {
        killed = true;
        process.kill(Number(pid), 'SIGKILL');
      }
    });
    outputs.push(result.output);
    expect(killed).toBe(true);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/--- last lines of \S+operator\.log/);
    expect(result.output).toContain('make run failed: the operator exited right after it started');
    expect(result.seconds).toBeLessThan(30);
  }, 120_000);
});
