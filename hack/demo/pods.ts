// `make run`'s Pod demo: the ratings Deployments of config/demo-pods (kwok runs their Pods: they have IPs but no
// processes here) stand behind Service ratings; a gRPC server stands in for each Pod on a loopback address (the
// stand-in Pod network, src/xds/testing/pod-network.ts, delivers the Pod IPs Weft's EDS names to them), and a
// proxyless gRPC client calls ratings through the VirtualService's 90/10 split by the Pods' version label.
// Bounded: at most 60 s for the Pods, 30 s for the client's config; stops at the first failed call.
//   node hack/demo/pods.ts <xds-port> [calls]
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';
import * as k8s from '@kubernetes/client-node';
import { installPodNetwork } from '../../dist/xds/testing/pod-network.js';

const xdsPort = Number(process.argv[2]);
const calls = Number(process.argv[3] ?? 200);
const NS = 'weft-demo';
const METHOD = '/ratings.Ratings/Get';
const bytes = { serialize: (s: string) => Buffer.from(s), deserialize: (b: Buffer) => b.toString() };
const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(k8s.CoreV1Api);

type PodView = { name: string; version: string; ip: string };
async function readyPods(): Promise<PodView[]> {
  const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=ratings' });
  return list.items
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => ({ name: p.metadata!.name!, version: p.metadata!.labels!.version!, ip: p.status!.podIP! }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

let pods: PodView[] = [];
for (const started = Date.now(); ; ) {
  pods = await readyPods();
  if (pods.length >= 3) break;
  if (Date.now() - started > 60_000) fail(`the ratings Pods are not ready after 60 s (${pods.length}/3): kubectl get pods -n ${NS} -l app=ratings`);
  await new Promise((r) => setTimeout(r, 500));
}
console.log('Pods behind Service ratings (kwok runs them; a gRPC server stands in for each on loopback):');
const network: Record<string, string> = {};
const servers: grpc.Server[] = [];
for (const [i, pod] of pods.entries()) {
  const address = `127.0.3.${i + 1}`;
  network[pod.ip] = address;
  const server = new grpc.Server();
  const definition = { Get: { path: METHOD, requestStream: false, responseStream: false, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize } };
  server.addService(definition, { Get: (_call: unknown, callback: grpc.sendUnaryData<string>) => callback(null, `${pod.version} ${pod.name}`) });
  await new Promise<void>((resolve, reject) => server.bindAsync(`${address}:9080`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  servers.push(server);
  console.log(`  ${pod.name.padEnd(28)} version=${pod.version}  ${pod.ip} -> ${address}:9080`);
}
installPodNetwork(network);
process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
  xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
  node: { id: 'make-run-pods-client', locality: { zone: 'local' }, metadata: { GENERATOR: 'grpc' } },
});
xds.register();
const target = `xds:///ratings.${NS}.svc.cluster.local:9080`;
const client = new grpc.Client(target, grpc.credentials.createInsecure());
const call = (deadlineMs: number) =>
  new Promise<{ ok: true; answer: string } | { ok: false; error: grpc.ServiceError }>((resolve) =>
    client.makeUnaryRequest(METHOD, bytes.serialize, bytes.deserialize, 'rating?', { deadline: Date.now() + deadlineMs }, (err, reply) => resolve(err ? { ok: false, error: err } : { ok: true, answer: reply! })),
  );
for (const started = Date.now(); ; ) {
  const first = await call(1000);
  if (first.ok) break;
  if (Date.now() - started > 30_000) fail(`no working xDS config for ${target} after 30 s (last error: ${first.error.details}): is VirtualService ratings Ready?`);
  await new Promise((r) => setTimeout(r, 250));
}
const tally: Record<string, number> = {};
for (let i = 0; i < calls; i++) {
  const r = await call(2000);
  if (!r.ok) fail(`call ${i + 1} of ${calls} failed: ${r.error.details}`);
  tally[r.answer] = (tally[r.answer] ?? 0) + 1;
}
console.log(`${calls} calls to ${target} (VirtualService ratings: 90% subset v1, 10% subset v2, by the Pods' version label):`);
for (const [answer, n] of Object.entries(tally).sort()) console.log(`  ${answer.padEnd(36)} ${n}`);
client.close();
for (const s of servers) s.forceShutdown();
const versions = new Set(Object.keys(tally).map((a) => a.split(' ')[0]));
process.exit(versions.has('v1') && versions.has('v2') ? 0 : 1);
