// A SotW-to-delta xDS bridge, for tests: real gRPC clients speak only SotW, so to put real traffic behind the
// server's delta protocol, the client talks SotW to this bridge and the bridge talks delta to the server (as an
// agent relaying xDS would). Per client stream it keeps the resources the delta stream delivered and turns each
// delta response into the SotW response the client expects; the client's ACKs and NACKs go upstream with the
// matching delta nonce.
import * as grpc from '@grpc/grpc-js';
import { isFullStateType } from '../protos.js';
import { messageType } from '../protos.js';
import { bytesField, DiscoveryResponseField, encodeAny, stringField } from '../wire.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';
const identity = (b: Buffer): Buffer => b;

interface SotwRequest {
  version_info: string;
  node?: object | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { code: number; message: string } | null;
}

interface DeltaResponse {
  system_version_info: string;
  type_url: string;
  nonce: string;
  removed_resources: string[];
  resources: Array<{ name: string; version: string; resource: { type_url: string; value: Uint8Array } }>;
}

const OBJECT = { defaults: true, arrays: true, objects: true, longs: String, enums: String } as const;

function decode<T>(typeName: string, bytes: Buffer): T {
  const type = messageType(typeName);
  return type.toObject(type.decode(bytes), OBJECT) as T;
}

function encode(typeName: string, message: object): Buffer {
  const type = messageType(typeName);
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

/** One client stream and its upstream delta stream. */
class BridgedStream {
  private readonly upstream: grpc.ClientDuplexStream<Buffer, Buffer>;
  private sentNode = false;
  /** Per type: names the client subscribes to, and the resources (Any bytes) the server delivered. */
  private readonly subscribed = new Map<string, Set<string>>();
  private readonly held = new Map<string, Map<string, Buffer>>();
  /** Client-facing nonce → the upstream nonce of the delta response it came from. */
  private readonly nonces = new Map<string, string>();
  private nonceCounter = 0;
  private closed = false;

  constructor(
    client: grpc.Client,
    private readonly downstream: grpc.ServerDuplexStream<Buffer, Buffer>,
  ) {
    this.upstream = client.makeBidiStreamRequest(`${SERVICE}/DeltaAggregatedResources`, identity, identity);
    this.upstream.on('data', (bytes: Buffer) => this.onDelta(decode<DeltaResponse>('envoy.service.discovery.v3.DeltaDiscoveryResponse', bytes)));
    this.upstream.on('error', () => this.close());
    this.upstream.on('end', () => this.close());
    downstream.on('data', (bytes: Buffer) => this.onSotw(decode<SotwRequest>('envoy.service.discovery.v3.DiscoveryRequest', bytes), bytes));
    downstream.on('end', () => this.close());
    downstream.on('error', () => this.close());
    downstream.on('cancelled', () => this.close());
  }

  /** Ends both sides, once, whichever side ended first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.upstream.cancel();
    this.downstream.end();
  }

  private onSotw(req: SotwRequest, raw: Buffer): void {
    const before = this.subscribed.get(req.type_url) ?? new Set<string>();
    const after = new Set(req.resource_names);
    this.subscribed.set(req.type_url, after);
    const delta: Record<string, unknown> = {
      type_url: req.type_url,
      resource_names_subscribe: [...after].filter((n) => !before.has(n)),
      resource_names_unsubscribe: [...before].filter((n) => !after.has(n)),
    };
    if (!this.sentNode) {
      // The node travels as raw bytes: re-encoding the decoded Struct would need its camelCase quirks.
      const full = messageType('envoy.service.discovery.v3.DiscoveryRequest').decode(raw) as unknown as { node?: object };
      delta.node = full.node;
      this.sentNode = true;
    }
    if (req.response_nonce) {
      delta.response_nonce = this.nonces.get(req.response_nonce) ?? '';
      this.nonces.delete(req.response_nonce);
      if (req.error_detail) delta.error_detail = req.error_detail;
    }
    for (const name of delta.resource_names_unsubscribe as string[]) this.held.get(req.type_url)?.delete(name);
    this.upstream.write(encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', delta));
  }

  private onDelta(res: DeltaResponse): void {
    let held = this.held.get(res.type_url);
    if (!held) this.held.set(res.type_url, (held = new Map()));
    for (const r of res.resources) held.set(r.name, encodeAny(r.resource.type_url, r.resource.value));
    for (const name of res.removed_resources) held.delete(name);
    const full = isFullStateType(res.type_url);
    const names = full ? [...held.keys()] : res.resources.map((r) => r.name);
    if (!full && names.length === 0) {
      // SotW cannot say "removed" for RDS/EDS: nothing to tell the client, but the server wants its ACK.
      this.upstream.write(encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', { type_url: res.type_url, response_nonce: res.nonce }));
      return;
    }
    const nonce = `b${++this.nonceCounter}`;
    this.nonces.set(nonce, res.nonce);
    const parts = [stringField(DiscoveryResponseField.versionInfo, res.system_version_info)];
    for (const name of names) parts.push(bytesField(DiscoveryResponseField.resources, held.get(name)!));
    parts.push(stringField(DiscoveryResponseField.typeUrl, res.type_url), stringField(DiscoveryResponseField.nonce, nonce));
    this.downstream.write(Buffer.concat(parts));
  }
}

/** Listens on `127.0.0.1:0` for SotW clients and relays each over delta to `upstream`. */
export async function startDeltaBridge(upstream: string): Promise<{ port: number; stop(): void }> {
  const client = new grpc.Client(upstream, grpc.credentials.createInsecure());
  const server = new grpc.Server();
  const method = { path: `${SERVICE}/StreamAggregatedResources`, requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
  const streams = new Set<BridgedStream>();
  server.addService({ StreamAggregatedResources: method } as grpc.ServiceDefinition, {
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => void streams.add(new BridgedStream(client, call)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    stop: () => {
      for (const s of streams) s.close();
      server.forceShutdown();
      client.close();
    },
  };
}
