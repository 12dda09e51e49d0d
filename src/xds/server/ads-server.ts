// The ADS gRPC service (envoy.service.discovery.v3.AggregatedDiscoveryService) on @grpc/grpc-js. Responses are
// written as pre-encoded bytes (the serializer is the identity), so a body shared by many streams is never
// re-encoded; requests are decoded with the Envoy protos.
import * as grpc from '@grpc/grpc-js';
import type { ProxyView } from '../cache.js';
import { DeltaStream } from './delta.js';
import { listenPlaintext, type BoundListener } from './listener.js';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest, type DeltaDiscoveryRequest, type DiscoveryRequest } from './messages.js';
import type { ProxyInfo } from './proxy.js';
import { SotwStream } from './sotw.js';
import type { AdsStream, ConnectedProxy, RequestBase, StreamHost, StreamSink } from './stream.js';
import type { Rejection } from './type-state.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';
const identity = (b: Buffer): Buffer => b;

function method<Req>(name: string, decode: (b: Buffer) => Req): grpc.MethodDefinition<Req, Buffer> {
  return {
    path: `${SERVICE}/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: () => {
      throw new Error('the server never sends requests');
    },
    requestDeserialize: decode,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

export interface AdsServerOptions {
  /** The config a proxy should see (the cache side of the seam). */
  openView(proxy: ProxyInfo): { view: ProxyView; release: () => void };
  /** ControlPlane.identifier in responses. */
  controlPlaneId?: string;
  /** ACKs and NACKs as they arrive (sync status, metrics, logs). */
  onAnswer?(proxy: ConnectedProxy, typeUrl: string, outcome: { acked: true } | { acked: false; rejection: Rejection }): void;
  onConnect?(proxy: ConnectedProxy): void;
  onDisconnect?(proxy: ConnectedProxy): void;
  /**
   * Whether the caller of `call` may receive `proxy`'s config: undefined to allow, or why not (the stream ends with
   * PERMISSION_DENIED). Asked when a stream's node is known, and again for every stream on reauthorize().
   */
  authorize?(proxy: ProxyInfo, call: object): string | undefined;
  log?: StreamHost['log'];
}

/** A caller that may not have the config its node asks for. */
class ProxyDenied extends Error {}

export class AdsServer {
  /** The ADS service, for serving it on another gRPC server too (the operator's TLS port, behind token checks). */
  readonly service: { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation };
  private readonly server: grpc.Server;
  private readonly streams = new Set<AdsStream>();
  /** Each open stream's call and how to end it, for reauthorize(). */
  private readonly calls = new Map<AdsStream, { call: object; sink: StreamSink }>();
  private listener: BoundListener | undefined;

  constructor(private readonly options: AdsServerOptions) {
    // Channelz keeps per-call bookkeeping that costs real time with thousands of streams.
    this.server = new grpc.Server({ 'grpc.enable_channelz': 0 });
    const host: StreamHost = {
      openView: options.openView,
      ...(options.controlPlaneId ? { controlPlaneId: options.controlPlaneId } : {}),
      ...(options.log ? { log: options.log } : {}),
      onAnswer: (stream, typeUrl, outcome) => options.onAnswer?.(stream, typeUrl, outcome),
      onClose: (stream) => {
        this.calls.delete(stream);
        if (this.streams.delete(stream)) options.onDisconnect?.(stream);
      },
    };
    const serve = <Req extends RequestBase>(make: (host: StreamHost, sink: StreamSink) => AdsStream<Req>) =>
      (call: grpc.ServerDuplexStream<Req, Buffer>): void => {
        const authorize = options.authorize;
        const callHost: StreamHost = authorize
          ? {
              ...host,
              openView: (proxy) => {
                const denied = authorize(proxy, call);
                if (denied !== undefined) throw new ProxyDenied(denied);
                return host.openView(proxy);
              },
            }
          : host;
        const sink: StreamSink = {
          write: (message) => void call.write(message),
          fail: (code, details) => {
            call.emit('error', { code, details });
            stream.close();
          },
        };
        const stream = make(callHost, sink);
        this.streams.add(stream);
        this.calls.set(stream, { call, sink });
        options.onConnect?.(stream);
        call.on('data', (req: Req) => {
          try {
            stream.onRequest(req);
          } catch (err) {
            if (err instanceof ProxyDenied) {
              options.log?.warn({ reason: err.message, node: (req as { node?: { id?: string } }).node?.id, peer: call.getPeer() }, 'xDS stream refused');
              return sink.fail(grpc.status.PERMISSION_DENIED, err.message);
            }
            options.log?.warn({ err: String(err), proxy: stream.proxy?.id }, 'xDS request failed');
            sink.fail(grpc.status.INTERNAL, String(err));
          }
        });
        call.on('end', () => {
          stream.close();
          call.end();
        });
        call.on('error', () => stream.close());
        call.on('cancelled', () => stream.close());
        call.on('close', () => stream.close());
      };
    this.service = {
      definition: {
        StreamAggregatedResources: method<DiscoveryRequest>('StreamAggregatedResources', decodeDiscoveryRequest),
        DeltaAggregatedResources: method<DeltaDiscoveryRequest>('DeltaAggregatedResources', decodeDeltaDiscoveryRequest),
      },
      implementation: {
        StreamAggregatedResources: serve<DiscoveryRequest>((h, sink) => new SotwStream(h, sink)),
        DeltaAggregatedResources: serve<DeltaDiscoveryRequest>((h, sink) => new DeltaStream(h, sink)),
      },
    };
    this.server.addService(this.service.definition, this.service.implementation);
  }

  /** Binds plaintext on `host:port` (0 picks a port); resolves with the port. */
  async listen(host: string, port: number): Promise<number> {
    this.listener = await listenPlaintext(this.server, host, port);
    return this.listener.port;
  }

  get port(): number | undefined {
    return this.listener?.port;
  }

  /** Every connected stream, for the debug endpoint and the sync status. */
  connected(): Iterable<ConnectedProxy> {
    return this.streams;
  }

  /**
   * Asks `authorize` again for every stream whose node is known (a Gateway or its ServiceAccount changed): one that
   * no longer holds is ended with PERMISSION_DENIED. Returns how many were ended.
   */
  reauthorize(): number {
    const authorize = this.options.authorize;
    if (!authorize) return 0;
    let ended = 0;
    for (const [stream, { call, sink }] of [...this.calls]) {
      if (!stream.proxy) continue;
      const denied = authorize(stream.proxy, call);
      if (denied === undefined) continue;
      this.options.log?.warn({ reason: denied, proxy: stream.proxy.id }, 'xDS stream no longer authorized: closed');
      sink.fail(grpc.status.PERMISSION_DENIED, denied);
      ended++;
    }
    return ended;
  }

  /** Stops the server and cancels the open streams (proxies reconnect, to another replica if there is one). */
  stop(): void {
    for (const stream of [...this.streams]) stream.close();
    this.listener?.close();
    this.server.forceShutdown();
  }
}
