// `make run`'s proof that the mesh works: the two reviews workloads of config/samples (WorkloadEntries on
// 127.0.0.2 and 127.0.0.3, port 9080) as real gRPC servers, and a proxyless gRPC client (grpc-js-xds) that gets
// its routes from Weft's xDS port and calls reviews through the VirtualService's 80/20 split.
//   node hack/demo/traffic.ts <xds-port> [calls]
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';

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
const call = () =>
  new Promise<string>((resolve) =>
    client.makeUnaryRequest(METHOD, bytes.serialize, bytes.deserialize, 'review?', { deadline: Date.now() + 10_000 }, (err, reply) => resolve(err ? `error: ${err.details}` : reply!)),
  );
const tally: Record<string, number> = {};
for (let i = 0; i < calls; i++) {
  const answer = await call();
  tally[answer] = (tally[answer] ?? 0) + 1;
}
console.log(`${calls} calls to xds:///reviews.weft-demo.svc.cluster.local:9080 (VirtualService reviews: 80% v1, 20% v2):`);
for (const [answer, n] of Object.entries(tally).sort()) console.log(`  ${answer.padEnd(6)} ${n}`);
client.close();
for (const s of servers) s.forceShutdown();
process.exit(tally.v1 && tally.v2 ? 0 : 1);
