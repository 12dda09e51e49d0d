// A proxyless gRPC client in its own process (grpc-js-xds reads its bootstrap once per process): it dials
// xds:///<target> and runs RPCs on command from the test, over the IPC channel. No relative imports: Node runs
// this file directly (type stripping).
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';

interface RunCommand {
  op: 'run';
  id: number;
  count: number;
  concurrency: number;
  path?: string;
  metadata?: Record<string, string>;
  sleepMs?: number;
  deadlineMs?: number;
}
interface LoopCommand {
  op: 'loop-start' | 'loop-stop';
  id: number;
  concurrency?: number;
}
type Command = RunCommand | LoopCommand;

export interface CallResult {
  backend?: string;
  code: number;
  details?: string;
  ms: number;
  /** When the call ended (ms since the process started its clock; comparable within one run). */
  at: number;
}

// The test's stand-in for a Pod network (XDS_POD_NETWORK: {"198.51.100.161": "127.0.0.161"}): see
// src/xds/testing/pod-network.ts, loaded from dist/ (this process runs with Node's type stripping, which does not
// resolve the sources' .js specifiers; make test-e2e builds dist/ first).
const { installPodNetwork } = (await import(new URL('../../../dist/xds/testing/pod-network.js', import.meta.url).href)) as typeof import('../../../src/xds/testing/pod-network.js');
installPodNetwork(JSON.parse(process.env.XDS_POD_NETWORK ?? '{}') as Record<string, string>);

xds.register();
const target = process.env.XDS_TARGET!;
const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString() || '{}'),
};
const client = new grpc.Client(`xds:///${target}`, grpc.credentials.createInsecure());

function call(path: string, metadata: Record<string, string>, sleepMs: number, deadlineMs: number): Promise<CallResult> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const started = performance.now();
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, json.serialize, json.deserialize, { sleepMs }, md, { deadline: Date.now() + deadlineMs }, (err, reply) => {
      const ended = performance.now();
      const result: CallResult = { code: err ? err.code : 0, ms: ended - started, at: Date.now() };
      if (err) result.details = err.details;
      else result.backend = (reply as { backend: string }).backend;
      resolve(result);
    });
  });
}

async function run(cmd: RunCommand): Promise<CallResult[]> {
  const results: CallResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cmd.count) {
      next++;
      results.push(await call(cmd.path ?? '/weft.test.Echo/Call', cmd.metadata ?? {}, cmd.sleepMs ?? 0, cmd.deadlineMs ?? 10_000));
    }
  };
  await Promise.all(Array.from({ length: cmd.concurrency }, worker));
  return results;
}

let loop: { stop: boolean; results: CallResult[]; done: Promise<unknown> } | undefined;

process.on('message', async (cmd: Command) => {
  switch (cmd.op) {
    case 'run':
      process.send!({ id: cmd.id, results: await run(cmd) });
      break;
    case 'loop-start': {
      const state = { stop: false, results: [] as CallResult[], done: Promise.resolve() as Promise<unknown> };
      const worker = async () => {
        while (!state.stop) state.results.push(await call('/weft.test.Echo/Call', {}, 0, 10_000));
      };
      state.done = Promise.all(Array.from({ length: cmd.concurrency ?? 2 }, worker));
      loop = state;
      process.send!({ id: cmd.id, results: [] });
      break;
    }
    case 'loop-stop': {
      const state = loop!;
      state.stop = true;
      await state.done;
      loop = undefined;
      process.send!({ id: cmd.id, results: state.results });
      break;
    }
  }
});
process.send!({ id: 0, results: [] }); // ready
