// A raw ADS client for tests and benchmarks: speaks SotW or delta on a grpc-js duplex stream, message by message,
// so a test controls exactly what the "proxy" sends (no real client here speaks delta, and none lets a test send
// a stale nonce on purpose).
import * as grpc from '@grpc/grpc-js';
import { messageType } from '../protos.js';
import type { ProtoMessage } from '../resource.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

export interface TestNode {
  id: string;
  cluster?: string;
  user_agent_name?: string;
  locality?: { region?: string; zone?: string; sub_zone?: string };
  /** Flat string/boolean metadata (encoded as a google.protobuf.Struct). */
  metadata?: Record<string, string | boolean>;
}

export interface SotwRequest {
  type_url: string;
  resource_names?: string[];
  version_info?: string;
  response_nonce?: string;
  error_detail?: { code: number; message: string };
  node?: TestNode;
}

export interface DeltaRequest {
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: { code: number; message: string };
  node?: TestNode;
}

/** A decoded resource: its name (from the message), and the message as a plain object (enums as names). */
export interface DecodedResource {
  name: string;
  version?: string;
  message: Record<string, unknown>;
}

export interface SotwResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: DecodedResource[];
}

export interface DeltaResponse {
  system_version_info: string;
  type_url: string;
  nonce: string;
  resources: DecodedResource[];
  removed_resources: string[];
}

const TO_OBJECT = { enums: String, longs: String, defaults: false, arrays: true } as const;

function nodeMessage(node: TestNode): ProtoMessage {
  const fields: ProtoMessage = {};
  for (const [k, v] of Object.entries(node.metadata ?? {})) fields[k] = typeof v === 'string' ? { stringValue: v } : { boolValue: v };
  return { ...node, metadata: { fields } } as unknown as ProtoMessage;
}

function encode(typeName: string, message: object): Buffer {
  const type = messageType(typeName);
  const m = { ...(message as Record<string, unknown>) };
  if (m.node) m.node = nodeMessage(m.node as TestNode);
  return Buffer.from(type.encode(type.fromObject(m)).finish());
}

/** Decodes an Any (as protobufjs reads it) into its message, naming it by its `name` or `cluster_name` field. */
export function decodeAny(any: { type_url: string; value: Uint8Array }): DecodedResource {
  const type = messageType(any.type_url);
  const message = type.toObject(type.decode(any.value), TO_OBJECT);
  return { name: String(message.name ?? message.cluster_name ?? ''), message };
}

/** A queue of messages from the server, awaited one at a time. */
class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<{ resolve: (v: T) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private failure: Error | undefined;

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(item);
    } else this.items.push(item);
  }

  fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  next(timeoutMs: number): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.findIndex((w) => w.timer === timer), 1);
        reject(new Error(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ resolve, reject, timer });
    });
  }

  /** Resolves true if nothing arrives for `ms` (the message, if one does, stays queued). */
  async quiet(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.items.length === 0;
  }

  get pending(): number {
    return this.items.length;
  }
}

abstract class RawStream<Req extends object, Res> {
  protected readonly inbox = new Inbox<Res>();
  protected readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;

  constructor(client: grpc.Client, method: string, private readonly requestType: string) {
    this.call = client.makeBidiStreamRequest(`${SERVICE}/${method}`, (b: Buffer) => b, (b: Buffer) => b);
    this.call.on('data', (bytes: Buffer) => this.inbox.push(this.decode(bytes)));
    this.call.on('error', (err) => this.inbox.fail(err));
    this.call.on('end', () => this.inbox.fail(new Error('stream ended')));
  }

  protected abstract decode(bytes: Buffer): Res;

  send(request: Req): void {
    this.call.write(encode(this.requestType, request));
  }

  next(timeoutMs = 5000): Promise<Res> {
    return this.inbox.next(timeoutMs);
  }

  /** Responses as they arrive, until the stream ends: then the iteration ends, with why in `endedWith`. */
  async *responses(): AsyncGenerator<Res> {
    for (;;) {
      try {
        yield await this.inbox.next(2_147_483_647);
      } catch (err) {
        this.endedWith = err as Error;
        return;
      }
    }
  }

  /** Why the stream ended (a status from the server, or the client's own cancel), once it has. */
  endedWith: (Error & { code?: number; details?: string }) | undefined;

  /** True if the server sends nothing within `ms`. */
  quiet(ms = 150): Promise<boolean> {
    return this.inbox.quiet(ms);
  }

  close(): void {
    this.call.cancel();
  }
}

export class SotwTestStream extends RawStream<SotwRequest, SotwResponse> {
  protected decode(bytes: Buffer): SotwResponse {
    const type = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    const raw = type.toObject(type.decode(bytes), { ...TO_OBJECT, defaults: true }) as {
      version_info: string;
      type_url: string;
      nonce: string;
      resources: Array<{ type_url: string; value: Uint8Array }>;
    };
    return { version_info: raw.version_info, type_url: raw.type_url, nonce: raw.nonce, resources: raw.resources.map(decodeAny) };
  }

  /** ACKs `response` for `names`. */
  ack(response: SotwResponse, names: string[]): void {
    this.send({ type_url: response.type_url, version_info: response.version_info, response_nonce: response.nonce, resource_names: names });
  }
}

export class DeltaTestStream extends RawStream<DeltaRequest, DeltaResponse> {
  protected decode(bytes: Buffer): DeltaResponse {
    const type = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
    const raw = type.toObject(type.decode(bytes), { ...TO_OBJECT, defaults: true }) as {
      system_version_info: string;
      type_url: string;
      nonce: string;
      removed_resources: string[];
      resources: Array<{ name: string; version: string; resource: { type_url: string; value: Uint8Array } }>;
    };
    return {
      system_version_info: raw.system_version_info,
      type_url: raw.type_url,
      nonce: raw.nonce,
      removed_resources: raw.removed_resources,
      resources: raw.resources.map((r) => ({ ...decodeAny(r.resource), name: r.name, version: r.version })),
    };
  }

  ack(response: DeltaResponse): void {
    this.send({ type_url: response.type_url, response_nonce: response.nonce });
  }
}

/** A plaintext connection to an ADS server, opening raw streams on it. */
export class AdsTestClient {
  private readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  sotw(): SotwTestStream {
    return new SotwTestStream(this.client, 'StreamAggregatedResources', 'envoy.service.discovery.v3.DiscoveryRequest');
  }

  delta(): DeltaTestStream {
    return new DeltaTestStream(this.client, 'DeltaAggregatedResources', 'envoy.service.discovery.v3.DeltaDiscoveryRequest');
  }

  close(): void {
    this.client.close();
  }
}
