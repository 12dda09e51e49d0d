// Weft's own part of a connect storm and a push, without the transport: the bench mesh's resources (as
// `gcp-server --dump` writes them) in a ResourceCache, simulated proxyless clients on SotwStreams, each request
// encoded as the client sends it and decoded as the server does, every response ACKed, and the sync status computed
// as it is every second meanwhile. No gRPC, no HTTP/2, no API server: what bench/grpcjs-floor.ts leaves out, in
// seconds instead of a cluster run, for comparing changes to the request path.
//
//   node --experimental-transform-types bench/xds-handling.ts --dump mesh.json [--clients 2000] [--rounds 3]
//
// Prints, per round, the CPU (all threads, GC included) of the storm and of one push (a route change, fanned out,
// ACKed), and the heap held per connected client.
import { readFileSync } from 'node:fs';
import '../hack/ts-sources.mjs'; // first: maps the sources' './x.js' imports to './x.ts'
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { dump: { type: 'string' }, clients: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' }, watch: { type: 'string', default: '10' } } });
if (!values.dump) {
  console.error('usage: xds-handling.ts --dump <mesh.json> [--clients N] [--rounds R] [--watch W]');
  process.exit(2);
}
const clients = Number(values.clients);
const watch = Number(values.watch);

const { createHash } = await import('node:crypto');
const { ResourceCache } = await import('../src/xds/cache.js');
const { SotwStream } = await import('../src/xds/server/sotw.js');
const { decodeDiscoveryRequest } = await import('../src/xds/server/messages.js');
const { messageType, TypeUrl } = await import('../src/xds/protos.js');
const { computeSync, SyncMemo } = await import('../src/xds/sync-status.js');
const { stringField } = await import('../src/xds/wire.js');
const { resourceId, sourceKey } = await import('../src/xds/resource.js');
type XdsResource = import('../src/xds/resource.js').XdsResource;
type StreamHost = import('../src/xds/server/stream.js').StreamHost;

interface MeshDump {
  resources: Array<{ typeUrl: string; name: string; any: string }>;
  triggerRoute: string;
  byWeight: string[];
}
const dump = JSON.parse(readFileSync(values.dump, 'utf8')) as MeshDump;

/** A resource as the generators make it: bytes, a content version, the mesh object behind it. */
function resource(typeUrl: string, name: string, any: Buffer): XdsResource {
  const host = name.includes('|') ? name.split('|')[3]! : name.split(':')[0]!;
  const [svc, ns] = host.split('.');
  const sources = [{ kind: 'VirtualService', namespace: ns!, name: svc!, generation: 1 }];
  const version = createHash('sha256').update(any).digest('base64url').slice(0, 16);
  return { id: resourceId(), typeUrl: typeUrl as XdsResource['typeUrl'], name, version, any, sources, sourceKeys: sources.map(sourceKey) };
}

const cache = new ResourceCache({ controlPlaneId: 'weft-bench' });
// As for a proxyless client: the mesh's collection, and its locality's for endpoints.
const mesh = cache.collection('proxyless');
const locality = cache.collection('locality/local/a');
const all = dump.resources.map((r) => resource(r.typeUrl, r.name, Buffer.from(r.any, 'base64')));
mesh.apply({ upsert: all.filter((r) => r.typeUrl !== TypeUrl.endpoint) });
locality.apply({ upsert: all.filter((r) => r.typeUrl === TypeUrl.endpoint) });
const byType = new Map<string, string[]>();
for (const r of all) {
  let names = byType.get(r.typeUrl);
  if (!names) byType.set(r.typeUrl, (names = []));
  names.push(r.name);
}
const listeners = byType.get(TypeUrl.listener)!;

/** Per type, per host: its clusters' (or their endpoints') names, each subset's. */
const subsets = new Map<string, Map<string, string[]>>();
for (const typeUrl of [TypeUrl.cluster, TypeUrl.endpoint]) {
  const byHost = new Map<string, string[]>();
  for (const name of byType.get(typeUrl)!) {
    const h = name.split('|')[3]!;
    byHost.set(h, [...(byHost.get(h) ?? []), name]);
  }
  subsets.set(typeUrl, byHost);
}

/** The names of `typeUrl` a client watching `hosts` asks for (for clusters and endpoints: each of its subsets), sorted as the load generator and gRPC send them. */
function namesFor(typeUrl: string, hosts: string[]): string[] {
  if (typeUrl === TypeUrl.listener || typeUrl === TypeUrl.route) return hosts.map((h) => `${h}:9080`).sort();
  return hosts.flatMap((h) => subsets.get(typeUrl)!.get(h) ?? []).sort();
}

// Requests are encoded by hand (DiscoveryRequest: version_info 1, node 2, resource_names 3, type_url 4, response_nonce
// 5), so that the client's side costs next to nothing; the node is encoded once.
const requestType = messageType('envoy.service.discovery.v3.DiscoveryRequest');
const nodeBytes = Buffer.from(
  requestType
    .encode(
      requestType.fromObject({
        node: { id: 'sidecar~127.100.0.1~bench-client-1.bench-0~bench-0.svc.cluster.local', cluster: 'bench-client', user_agent_name: 'gRPC Go', metadata: { fields: { GENERATOR: { string_value: 'grpc' }, NAMESPACE: { string_value: 'bench-0' } } }, locality: { region: 'local', zone: 'a' } },
      }),
    )
    .finish(),
);
function encode(r: { node?: boolean; type_url: string; resource_names: string[]; version_info?: string; response_nonce?: string }): Buffer {
  const parts = [stringField(1, r.version_info ?? ''), r.node ? nodeBytes : Buffer.alloc(0), ...r.resource_names.map((n) => stringField(3, n)), stringField(4, r.type_url), stringField(5, r.response_nonce ?? '')];
  return Buffer.concat(parts);
}
const ORDER = [TypeUrl.listener, TypeUrl.route, TypeUrl.cluster, TypeUrl.endpoint];

interface Client {
  stream: InstanceType<typeof SotwStream>;
  hosts: string[];
}

const host: StreamHost = { openView: (_proxy) => cache.acquireView(['proxyless', 'locality/local/a']) };
const sink = { write: (_m: Buffer) => undefined, fail: (_code: number, details: string) => console.error('stream failed:', details) };

/** Sends a request as the client encodes it and the server decodes it. */
function send(stream: InstanceType<typeof SotwStream>, message: Parameters<typeof encode>[0]): void {
  stream.onRequest(decodeDiscoveryRequest(encode(message)));
}

function ack(c: Client, typeUrl: string, names: string[]): void {
  const state = c.stream.types.get(typeUrl)!;
  send(c.stream, { type_url: typeUrl, resource_names: names, version_info: state.sentVersion, response_nonce: state.lastNonce });
}

const memo = new SyncMemo();
const proxies = new Set<Client>();
const inputs = { cache, proxies: () => [...proxies].map((c) => c.stream) };

/** A connect storm in the loadgen's order, type by type, with the sync status computed after each type (about once a second in a real storm). */
function storm(): Client[] {
  const made: Client[] = [];
  for (let id = 0; id < clients; id++) {
    const hosts = [listeners[0]!.split(':')[0]!];
    for (let j = 0; j < watch - 1; j++) hosts.push(listeners[1 + ((id * (watch - 1) + j) % (listeners.length - 1))]!.split(':')[0]!);
    made.push({ stream: new SotwStream(host, sink), hosts });
  }
  ORDER.forEach((typeUrl, step) => {
    made.forEach((c, i) => {
      const names = namesFor(typeUrl, c.hosts);
      if (step === 0) {
        proxies.add(c);
        send(c.stream, { node: true, type_url: typeUrl, resource_names: names });
      } else send(c.stream, { type_url: typeUrl, resource_names: names });
      ack(c, typeUrl, names);
    });
    computeSync(inputs, memo);
  });
  return made;
}

/** One route change: fanned out (as the cache does, over event-loop turns), every client's ACK, then the sync status. */
async function push(weight: number, made: Client[]): Promise<void> {
  const route = dump.byWeight[weight]!;
  mesh.apply({ upsert: [resource(TypeUrl.route, dump.triggerRoute, Buffer.from(route, 'base64'))] });
  await new Promise<void>((resolve) => cache.afterFanOut(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => cache.afterFanOut(resolve));
  for (const c of made) ack(c, TypeUrl.route, namesFor(TypeUrl.route, c.hosts));
  computeSync(inputs, memo);
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const gc = (globalThis as { gc?: () => void }).gc;
/** One round in a function of its own, so that its streams are garbage once it returns. */
async function round(n: number): Promise<void> {
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = cpu();
  const made = storm();
  const t1 = cpu();
  gc?.();
  const heapWith = process.memoryUsage().heapUsed;
  const t2 = cpu();
  await push(20 + n, made);
  const t3 = cpu();
  console.log(
    `round ${n}: ${clients} clients, storm ${(t1 - t0).toFixed(2)} s CPU, push ${((t3 - t2) * 1000).toFixed(0)} ms CPU` +
      (gc ? `, heap per client ${((heapWith - heapBefore) / clients / 1024).toFixed(1)} KB` : ''),
  );
  for (const c of made) {
    c.stream.close();
    proxies.delete(c);
  }
}
for (let n = 1; n <= Number(values.rounds); n++) await round(n);
