// `make run`'s proof that the mesh works: the two reviews workloads of config/samples (WorkloadEntries on
// 127.0.0.2 and 127.0.0.3, port 9080) as real gRPC servers, and a proxyless gRPC client (grpc-js-xds) that gets
// its routes from Weft's xDS port and calls reviews through the VirtualService's 80/20 split.
// Bounded: it first waits (at most 30 s, saying so) until the client has its config, then calls with a short
// deadline and stops at the first failure with the likely cause.
//   node hack/demo/traffic.ts <xds-port> [calls]
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';
import { connect } from 'node:net';

const xdsPort = Number(process.argv[2]);
const calls = Number(process.argv[3] ?? 100);
const METHOD = '/reviews.Reviews/GetReview'; // the split's match: prefix /reviews.Reviews/
const bytes = { serialize: (s: string) => Buffer.from(s), deserialize: (b: Buffer) => b.toString() };

async function workload(version: string, address: string): Promise<grpc.Server> {
  const server = new grpc.Server();
  const definition = { GetReview: { path: METHOD, requestStream: false, responseStream: false, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize } };
  server.addService(definition, { GetReview: (_call: unknown, callback: grpc.sendUnaryData<string>) => callback(null, version) });
  await new Promise<void>((resolve, reject) => server.bindAsync(`${address}:9080`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return server;
}

const servers = [await workload('v1', '127.0.0.2'), await workload('v2', '127.0.0.3')];
process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
  xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
  node: { id: 'make-run-client', locality: { zone: 'local' }, metadata: { GENERATOR: 'grpc' } },
});
xds.register();
const client = new grpc.Client('xds:///reviews.weft-demo.svc.cluster.local:9080', grpc.credentials.createInsecure());
const call = (deadlineMs: number) =>
  new Promise<{ ok: true; version: string } | { ok: false; error: grpc.ServiceError }>((resolve) =>
    client.makeUnaryRequest(METHOD, bytes.serialize, bytes.deserialize, 'review?', { deadline: Date.now() + deadlineMs }, (err, reply) =>
      resolve(err ? { ok: false, error: err } : { ok: true, version: reply! }),
    ),
  );

/** Whether something listens on the xDS port (tells "operator not serving" from "no config for the target"). */
const listening = () =>
  new Promise<boolean>((resolve) => {
    const socket = connect(xdsPort, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

async function stop(message: string): Promise<never> {
  console.error(message);
  client.close();
  for (const s of servers) s.forceShutdown();
  process.exit(1);
}

const target = 'xds:///reviews.weft-demo.svc.cluster.local:9080';
const started = Date.now();
let lastError: grpc.ServiceError | undefined;
for (;;) {
  const first = await call(1000);
  if (first.ok) break;
  lastError = first.error;
  const waited = Math.round((Date.now() - started) / 1000);
  if (waited >= 30) {
    await stop(
      (await listening())
        ? `no working xDS config for ${target} after 30 s (last error: ${lastError.details}): is VirtualService reviews Ready, and are its endpoints listening?`
        : `nothing listens on the operator's xDS port 127.0.0.1:${xdsPort}: the operator is not serving (see its log)`,
    );
  }
  if (waited > 0 && waited % 5 === 0) console.log(`waiting for the client's xDS config (${waited} s): ${lastError.details}`);
  await new Promise((r) => setTimeout(r, 250));
}
const tally: Record<string, number> = {};
for (let i = 0; i < calls; i++) {
  const answer = await call(2000);
  if (!answer.ok) await stop(`call ${i + 1} of ${calls} failed: ${answer.error.details} (${grpc.status[answer.error.code]}); ${(await listening()) ? 'the operator still serves xDS' : 'the operator stopped serving xDS'}`);
  else tally[answer.version] = (tally[answer.version] ?? 0) + 1;
}
console.log(`${calls} calls to ${target} (VirtualService reviews: 80% v1, 20% v2):`);
for (const [answer, n] of Object.entries(tally).sort()) console.log(`  ${answer.padEnd(6)} ${n}`);
client.close();
for (const s of servers) s.forceShutdown();
process.exit(tally.v1 && tally.v2 ? 0 : 1);
