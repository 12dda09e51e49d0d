// The ADS gRPC service (envoy.service.discovery.v3.AggregatedDiscoveryService) on @grpc/grpc-js. Responses are
// written as pre-encoded bytes (the serializer is the identity), so a body shared by many streams is never
// re-encoded; requests are decoded with the Envoy protos.
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_XDS_LIMITS, xdsServerOptions, type XdsLimits } from './limits.js';
import type { ProxyView } from '../cache.js';
import { DeltaStream } from './delta.js';
import { listenPlaintext, type BoundListener } from '../../net/listener.js';
import { OpenCounts } from '../../net/open-counts.js';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest, type DeltaDiscoveryRequest, type DiscoveryRequest } from './messages.js';
import type { ProxyInfo } from './proxy.js';
import { resetStream } from './reset.js';
import { SotwStream } from './sotw.js';
import type { AdsStream, AnswerOutcome, ConnectedProxy, Protocol, RequestBase, StreamHost, StreamSink } from './stream.js';

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
  /** The config a proxy should see on a stream of `protocol` (the cache side of the seam). */
  openView(proxy: ProxyInfo, protocol: Protocol): { view: ProxyView; release: () => void };
  /** ACKs and NACKs as they arrive (sync status, metrics, logs). */
  onAnswer?(proxy: ConnectedProxy, typeUrl: string, outcome: AnswerOutcome): void;
  onConnect?(proxy: ConnectedProxy): void;
  onDisconnect?(proxy: ConnectedProxy): void;
  /** A connection accepted on the plaintext port, before TLS, HTTP/2 or any stream: the first sign of a storm. */
  onAccepted?(): void;
  /**
   * Whether the caller of `call` may receive `proxy`'s config: undefined to allow, or why not (the stream ends with
   * PERMISSION_DENIED). Asked when a stream's node is known, and again for every stream on reauthorize().
   */
  authorize?(proxy: ProxyInfo, call: object): string | undefined;
  log?: StreamHost['log'];
  /** What a client may cost (limits.ts); the defaults otherwise. */
  limits?: Partial<XdsLimits>;
  /** A stream the server ended for what it cost, for the metrics (`proxy` is unknown when refused on opening). */
  onLimited?(proxy: ConnectedProxy | undefined, reason: LimitReason): void;
  /**
   * Whether `call`'s peer counts against limits.maxStreamsPerPeer: calls on the authenticated port do; the plaintext
   * loopback port's clients are all one peer (tests, local development). None count when absent.
   */
  countsPerPeer?(call: object): boolean;
  /**
   * Whether the config is built. Until it is, a stream ends at once UNAVAILABLE (as istiod's does before its caches
   * sync) rather than being sent the empty config of a control plane still starting: a proxy would drop every
   * listener and cluster it holds, where UNAVAILABLE makes it keep them and retry. Always ready when absent.
   */
  isReady?(): boolean;
}

export type LimitReason = 'pending-bytes' | 'names' | 'streams-per-peer';

/** The IP address in a grpc-js peer string (`1.2.3.4:5678`, `[::1]:5678` or `::1:5678`). */
export function peerAddress(peer: string): string {
  const bracketed = /^\[(.*)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1]!;
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon) : peer;
}

/** A caller that may not have the config its node asks for. */
class ProxyDenied extends Error {}

export class AdsServer {
  /** The ADS service, for serving it on another gRPC server too (the operator's TLS port, behind token checks). */
  readonly service: { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation };
  private readonly server: grpc.Server;
  private readonly streams = new Set<AdsStream>();
  /** Each open stream's call and how to end it, for reauthorize(). */
  private readonly calls = new Map<AdsStream, { call: object; sink: StreamSink; release: () => void }>();
  private listener: BoundListener | undefined;
  /** Open streams per peer address, for the calls countsPerPeer counts. */
  private readonly perPeer = new OpenCounts<string>();

  /** The limits in force (defaults for what the options leave out). */
  readonly limits: XdsLimits;

  constructor(private readonly options: AdsServerOptions) {
    this.limits = { ...DEFAULT_XDS_LIMITS, ...options.limits };
    this.server = new grpc.Server(xdsServerOptions(this.limits));
    const host: StreamHost = {
      maxNamesPerRequest: this.limits.maxNamesPerRequest,
      onLimited: (stream, reason) => options.onLimited?.(stream, reason),
      openView: options.openView,
      ...(options.log ? { log: options.log } : {}),
      onAnswer: (stream, typeUrl, outcome) => options.onAnswer?.(stream, typeUrl, outcome),
      onClose: (stream) => {
        this.calls.get(stream)?.release();
        this.calls.delete(stream);
        if (this.streams.delete(stream)) options.onDisconnect?.(stream);
      },
    };
    const serve = <Req extends RequestBase>(make: (host: StreamHost, sink: StreamSink) => AdsStream<Req>) =>
      (call: grpc.ServerDuplexStream<Req, Buffer>): void => {
        if (options.isReady && !options.isReady()) {
          call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the control plane is starting: its configuration is not built yet' });
          return;
        }
        const release = this.admitPeer(call);
        if (!release) return;
        const authorize = options.authorize;
        const callHost: StreamHost = authorize
          ? {
              ...host,
              openView: (proxy, protocol) => {
                const denied = authorize(proxy, call);
                if (denied !== undefined) throw new ProxyDenied(denied);
                return host.openView(proxy, protocol);
              },
            }
          : host;
        // Backpressure: bytes handed to gRPC and not yet taken by the client. A client that stops reading is cut
        // off once they pass the cap, rather than buffered without bound.
        let pending = 0;
        const sink: StreamSink = {
          write: (message) => {
            pending += message.length;
            call.write(message, () => (pending -= message.length));
            if (pending > this.limits.maxPendingBytes) {
              options.log?.warn({ proxy: stream.proxy?.id, pendingBytes: pending, peer: call.getPeer() }, 'xDS client not reading: stream closed');
              options.onLimited?.(stream, 'pending-bytes');
              // A status would wait behind the unread bytes: reset the stream, which also frees them.
              if (resetStream(call)) stream.close();
              else sink.fail(grpc.status.RESOURCE_EXHAUSTED, `the client is not reading its responses: more than ${this.limits.maxPendingBytes} bytes wait for it`);
            }
          },
          fail: (code, details) => {
            call.emit('error', { code, details });
            stream.close();
          },
        };
        const stream = make(callHost, sink);
        this.streams.add(stream);
        this.calls.set(stream, { call, sink, release });
        options.onConnect?.(stream);
        call.on('data', (req: Req) => {
          try {
            stream.onRequest(req);
          } catch (err) {
            if (err instanceof ProxyDenied) {
              options.log?.warn({ reason: err.message, node: (req as { node?: { id?: string } }).node?.id, peer: call.getPeer() }, 'xDS stream refused');
              return sink.fail(grpc.status.PERMISSION_DENIED, err.message);
            }
            // The details stay in the log: a client learns only that it was the server's fault.
            options.log?.warn({ err, proxy: stream.proxy?.id }, 'xDS request failed');
            sink.fail(grpc.status.INTERNAL, 'internal error while handling the request (the operator log has the details)');
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

  /**
   * Counts `call` against its peer's streams: returns how to give the slot back, or undefined when the peer has
   * none left (the call has then been ended RESOURCE_EXHAUSTED, before any work for it).
   */
  private admitPeer(call: grpc.ServerDuplexStream<unknown, Buffer>): (() => void) | undefined {
    if (!this.options.countsPerPeer?.(call)) return () => undefined;
    const peer = peerAddress(call.getPeer());
    const open = this.perPeer.get(peer);
    const max = this.limits.maxStreamsPerPeer;
    if (open >= max) {
      this.options.onLimited?.(undefined, 'streams-per-peer');
      this.options.log?.warn({ peer, open }, 'xDS stream refused: too many from one peer');
      call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: `too many xDS streams from ${peer}: at most ${max} may be open at once` });
      return undefined;
    }
    return this.perPeer.open(peer);
  }

  /** Binds plaintext on `host:port` (0 picks a port); resolves with the port. */
  async listen(host: string, port: number): Promise<number> {
    this.listener = await listenPlaintext(this.server, host, port, this.options.onAccepted ? { onAccepted: this.options.onAccepted } : {});
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
    // Sessions first: closing the listener's injector would only ask them to close (GOAWAY) and forget them, leaving
    // a client that never reads connected.
    this.server.forceShutdown();
    this.listener?.close();
  }
}
