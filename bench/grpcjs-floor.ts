// The transport floor: the bench mesh's resources, as `gcp-server --dump` writes them, served over SotW ADS on
// @grpc/grpc-js with Weft's listener, server options and request decoder, and nothing else. Per stream and type it
// keeps the subscribed names and the last nonce; a request whose names changed gets every subscribed resource of
// its type, an ACK gets nothing. No API server, no config model, no ACK tracking, no sync status. What Node and
// grpc-js cost on their own for the load generator's clients, beside go-control-plane sending the same bytes:
// the part of Weft's connect storm and pushes that no change to Weft's own code can remove.
//
//   node --experimental-transform-types bench/grpcjs-floor.ts --dump mesh.json --xds 127.0.0.1:18000 --admin 127.0.0.1:18001
//
// POST http://<admin>/weight?v2=W swaps in the trigger route at weight W and writes it to every stream subscribed to
// it before answering (as go-control-plane's linear cache is updated in process). Proxyless resources, SotW only.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import '../hack/ts-sources.mjs'; // first: maps the sources' './x.js' imports to './x.ts'
import { parseArgs } from 'node:util';
import type * as grpc from '@grpc/grpc-js';

const { values } = parseArgs({ options: { dump: { type: 'string' }, xds: { type: 'string' }, admin: { type: 'string' } } });
if (!values.dump || !values.xds || !values.admin) {
  console.error('usage: grpcjs-floor.ts --dump <mesh.json> --xds <host:port> --admin <host:port>');
  process.exit(2);
}

const { Server } = await import('@grpc/grpc-js');
const { bytesField, stringField, DiscoveryResponseField } = await import('../src/xds/wire.js');
const { decodeDiscoveryRequest } = await import('../src/xds/server/messages.js');
const { listenPlaintext } = await import('../src/net/listener.js');
const { xdsServerOptions } = await import('../src/xds/server/limits.js');
type DiscoveryRequest = ReturnType<typeof decodeDiscoveryRequest>;

interface MeshDump {
  resources: Array<{ typeUrl: string; name: string; any: string }>;
  triggerRoute: string;
  byWeight: string[];
}
const dump = JSON.parse(readFileSync(values.dump, 'utf8')) as MeshDump;
const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';

/** Each resource as its DiscoveryResponse field (tag, length, Any), encoded once; and each type's version. */
const byType = new Map<string, Map<string, Buffer>>();
const versions = new Map<string, number>();
const asField = (any: string) => bytesField(DiscoveryResponseField.resources, Buffer.from(any, 'base64'));
for (const r of dump.resources) {
  let resources = byType.get(r.typeUrl);
  if (!resources) byType.set(r.typeUrl, (resources = new Map()));
  resources.set(r.name, asField(r.any));
  versions.set(r.typeUrl, 1);
}
const triggerRoutes = dump.byWeight.map(asField);

interface Subscription {
  names: Set<string>;
  nonce: string;
}

class FloorStream {
  readonly types = new Map<string, Subscription>();
  private nonces = 0;

  constructor(private readonly call: grpc.ServerDuplexStream<DiscoveryRequest, Buffer>) {}

  onRequest(req: DiscoveryRequest): void {
    let sub = this.types.get(req.type_url);
    if (!sub) this.types.set(req.type_url, (sub = { names: new Set(), nonce: '' }));
    // An answer to an older response: the client asks again after the latest one.
    if (req.response_nonce !== '' && req.response_nonce !== sub.nonce) return;
    const names = req.resource_names;
    const same = names.length === sub.names.size && names.every((n) => sub.names.has(n));
    if (same && req.response_nonce !== '') return; // an ACK
    sub.names = new Set(names);
    this.respond(req.type_url, sub, sub.names);
  }

  respond(typeUrl: string, sub: Subscription, names: Iterable<string>): void {
    const resources = byType.get(typeUrl);
    const parts = [stringField(DiscoveryResponseField.versionInfo, String(versions.get(typeUrl) ?? 0))];
    for (const name of names) {
      const r = resources?.get(name);
      if (r) parts.push(r);
    }
    sub.nonce = (++this.nonces).toString(36);
    parts.push(stringField(DiscoveryResponseField.typeUrl, typeUrl), stringField(DiscoveryResponseField.nonce, sub.nonce));
    this.call.write(Buffer.concat(parts));
  }
}

const streams = new Set<FloorStream>();
const server = new Server(xdsServerOptions());
const identity = (b: Buffer): Buffer => b;
server.addService(
  {
    StreamAggregatedResources: {
      path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      requestStream: true,
      responseStream: true,
      requestSerialize: identity,
      requestDeserialize: decodeDiscoveryRequest,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  {
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, Buffer>) => {
      const stream = new FloorStream(call);
      streams.add(stream);
      call.on('data', (req: DiscoveryRequest) => stream.onRequest(req));
      const close = () => streams.delete(stream);
      call.on('end', () => {
        close();
        call.end();
      });
      call.on('error', close);
      call.on('cancelled', close);
    },
  },
);

const [xdsHost, xdsPort] = splitHostPort(values.xds);
await listenPlaintext(server, xdsHost, xdsPort);

const [adminHost, adminPort] = splitHostPort(values.admin);
createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://admin');
  const v2 = Number(url.searchParams.get('v2'));
  if (req.method !== 'POST' || url.pathname !== '/weight' || !Number.isInteger(v2) || v2 < 0 || v2 >= triggerRoutes.length) {
    res.writeHead(400).end('POST /weight?v2=0..100\n');
    return;
  }
  byType.get(ROUTE_TYPE)!.set(dump.triggerRoute, triggerRoutes[v2]!);
  versions.set(ROUTE_TYPE, (versions.get(ROUTE_TYPE) ?? 0) + 1);
  for (const stream of streams) {
    const sub = stream.types.get(ROUTE_TYPE);
    if (sub?.names.has(dump.triggerRoute)) stream.respond(ROUTE_TYPE, sub, [dump.triggerRoute]);
  }
  res.writeHead(204).end();
}).listen(adminPort, adminHost);

// Exit on SIGTERM through process.exit, so that --cpu-prof writes its profile (compare.sh COMPARE_PROFILE=1).
process.on('SIGTERM', () => process.exit(0));
console.log(`grpcjs-floor: ${dump.resources.length} resources, ADS on ${values.xds}, trigger on ${values.admin}`);

function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}
