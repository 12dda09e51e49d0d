// Warms the xDS request path before the port opens. A started operator meets its proxies all at once (they lost
// their streams with the replica before it), and V8 meets the request path's code cold: HTTP/2, gRPC, Buffer and
// Weft's stream code run unoptimised while thousands of proxies wait. In a 2000-proxy storm right after a start the
// server spent ~0.3 s more CPU than in the same storm on a process that had served one before (docs/benchmarks.md,
// "A warm request path"). So, before listening, the control plane runs a few hundred streams of the whole exchange
// (subscribe, response, ACK, type by type) against its own config over loopback, on an AdsServer of its own: no
// status, metric or replica summary sees them.
import * as grpc from '@grpc/grpc-js';
import { messageType } from '../protos.js';
import type { AdsServer } from './ads-server.js';

const SOTW_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** What a warm-up stream asks for, type by type, in order (each type's names as its first request names them). */
export interface WarmUpPlan {
  node: { id: string; user_agent_name: string; metadata: Record<string, string> };
  requests: ReadonlyArray<{ typeUrl: string; names: readonly string[] }>;
}

export interface WarmUpOptions {
  /** Streams in all, each on a connection of its own, as proxies connect. */
  streams: number;
  /** Streams open at once. */
  concurrency: number;
  /** Gives up after this long (a warm-up never holds back serving for long). */
  timeoutMs: number;
}

export const DEFAULT_WARM_UP: WarmUpOptions = { streams: 300, concurrency: 50, timeoutMs: 5000 };

/**
 * Runs `options.streams` warm-up streams of `plan` against `server` (listening on a loopback port of its own for
 * the duration), then stops it. Resolves with how many streams completed the exchange; never rejects.
 */
export async function warmUp(server: AdsServer, plan: WarmUpPlan, options: WarmUpOptions = DEFAULT_WARM_UP): Promise<number> {
  let port: number;
  try {
    port = await server.listen('127.0.0.1', 0);
  } catch {
    return 0;
  }
  const deadline = Date.now() + options.timeoutMs;
  const requests = encodedRequests(plan);
  let next = 0;
  let completed = 0;
  const worker = async () => {
    while (next < options.streams && Date.now() < deadline) {
      next++;
      if (await oneStream(port, requests, deadline)) completed++;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.streams) }, worker));
  } finally {
    server.stop();
  }
  return completed;
}

/** Each type's request (the first carries the node), and how to ACK its response. */
interface EncodedStep {
  request: Buffer;
  ack: (version: string, nonce: string) => Buffer;
}

function encodedRequests(plan: WarmUpPlan): EncodedStep[] {
  const type = messageType('envoy.service.discovery.v3.DiscoveryRequest');
  const encode = (message: object) => Buffer.from(type.encode(type.fromObject(message)).finish());
  const node = { ...plan.node, metadata: { fields: Object.fromEntries(Object.entries(plan.node.metadata).map(([k, v]) => [k, { stringValue: v }])) } };
  return plan.requests.map(({ typeUrl, names }, i) => ({
    request: encode({ ...(i === 0 ? { node } : {}), type_url: typeUrl, resource_names: names }),
    ack: (version, nonce) => encode({ type_url: typeUrl, resource_names: names, version_info: version, response_nonce: nonce }),
  }));
}

/** One proxy's exchange on a connection of its own; true if every type was answered and ACKed. */
function oneStream(port: number, steps: readonly EncodedStep[], deadline: number): Promise<boolean> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  const responseType = messageType('envoy.service.discovery.v3.DiscoveryResponse');
  return new Promise<boolean>((resolve) => {
    const call = client.makeBidiStreamRequest<Buffer, Buffer>(SOTW_PATH, (b) => b, (b) => b, new grpc.Metadata(), { deadline });
    let step = 0;
    const finish = (ok: boolean) => {
      call.removeAllListeners('data');
      call.on('error', () => undefined); // the cancellation below
      call.cancel();
      client.close();
      resolve(ok);
    };
    call.on('data', (bytes: Buffer) => {
      const response = responseType.decode(bytes) as unknown as { version_info: string; nonce: string };
      call.write(steps[step]!.ack(response.version_info, response.nonce));
      if (++step === steps.length) finish(true);
      else call.write(steps[step]!.request);
    });
    call.on('error', () => finish(false));
    if (steps.length === 0) finish(true);
    else call.write(steps[0]!.request);
  });
}
