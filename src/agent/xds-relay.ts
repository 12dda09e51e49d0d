// The workload's local xDS endpoint. grpc-js-xds can only talk plaintext to its xDS server, so the agent listens on
// loopback and relays each ADS stream, message for message (bytes, never decoded), to the operator's TLS port,
// adding what the workload cannot: TLS that verifies the operator's SPIFFE ID, and the workload's ServiceAccount
// token, which the operator checks before serving the stream.
import * as grpc from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';
const METHODS = ['StreamAggregatedResources', 'DeltaAggregatedResources'] as const;
const bytes = (b: Buffer): Buffer => b;

const definition: grpc.ServiceDefinition = Object.fromEntries(
  METHODS.map((name) => [
    name,
    { path: `${SERVICE}/${name}`, requestStream: true, responseStream: true, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes },
  ]),
);

export interface XdsRelayOptions {
  /** Where the workload's bootstrap points (loopback), e.g. 127.0.0.1:15010. */
  listen: string;
  /** The operator's TLS gRPC port. */
  upstream: string;
  /** The SPIFFE ID the operator must present. */
  upstreamIdentity: string;
  /** TLS server name (SNI) to send when `upstream` is an IP. */
  upstreamServerName: string;
  /** Re-read for every stream: the kubelet rotates projected tokens. */
  tokenFile: string;
  log: Logger;
}

/** An upstream channel for one set of roots, and how many relayed streams still use it. */
interface Upstream {
  client: grpc.Client;
  rootsPem: string;
  streams: number;
}

export class XdsRelay {
  private readonly server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  private upstream: Upstream | undefined;
  private readonly retired = new Set<Upstream>();

  constructor(private readonly options: XdsRelayOptions) {
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const name of METHODS) implementation[name] = ((call: grpc.ServerDuplexStream<Buffer, Buffer>) => void this.relay(`${SERVICE}/${name}`, call)) as grpc.UntypedServiceImplementation[string];
    this.server.addService(definition, implementation);
  }

  /** Starts listening; resolves with the port. Streams wait for roots (setRoots) before going upstream. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync(this.options.listen, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
  }

  /**
   * The roots to verify the operator with; new streams use them, open streams keep their connection (a root
   * rotation keeps the old root trusted for a while, so those stay valid).
   */
  setRoots(rootsPem: string): void {
    if (this.upstream?.rootsPem === rootsPem) return;
    if (this.upstream) this.retire(this.upstream);
    this.upstream = { client: this.newClient(rootsPem), rootsPem, streams: 0 };
  }

  stop(): void {
    this.server.forceShutdown();
    for (const u of [this.upstream, ...this.retired]) u?.client.close();
  }

  private newClient(rootsPem: string): grpc.Client {
    const { upstream, upstreamIdentity, upstreamServerName } = this.options;
    const creds = grpc.credentials.createSsl(Buffer.from(rootsPem), null, null, {
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        (cert.subjectaltname ?? '').split(', ').includes(`URI:${upstreamIdentity}`) ? undefined : new Error(`the xDS server presented ${cert.subjectaltname || 'no SAN'}, not ${upstreamIdentity}`),
    });
    const host = upstream.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return new grpc.Client(upstream, creds, isIP(host) ? { 'grpc.ssl_target_name_override': upstreamServerName } : {});
  }

  private retire(upstream: Upstream): void {
    if (upstream.streams === 0) upstream.client.close();
    else this.retired.add(upstream);
  }

  private async relay(path: string, down: grpc.ServerDuplexStream<Buffer, Buffer>): Promise<void> {
    const upstream = this.upstream;
    if (!upstream) {
      down.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the agent has no certificate yet; retry shortly' });
      return;
    }
    let token: string;
    try {
      token = (await readFile(this.options.tokenFile, 'utf8')).trim();
    } catch (err) {
      down.emit('error', { code: grpc.status.UNAVAILABLE, details: `cannot read the ServiceAccount token: ${(err as Error).message}` });
      return;
    }
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    upstream.streams++;
    const up = upstream.client.makeBidiStreamRequest(path, bytes, bytes, metadata);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (--upstream.streams === 0 && this.retired.delete(upstream)) upstream.client.close();
    };
    down.on('data', (message: Buffer) => up.write(message));
    down.on('end', () => up.end());
    down.on('cancelled', () => up.cancel());
    up.on('data', (message: Buffer) => down.write(message));
    up.on('end', () => {
      finish();
      down.end();
    });
    up.on('error', (err: grpc.ServiceError) => {
      finish();
      if (err.code !== grpc.status.CANCELLED) this.options.log.warn({ code: grpc.status[err.code], details: err.details }, 'upstream xDS stream failed');
      down.emit('error', { code: err.code, details: `upstream: ${err.details}` });
    });
  }
}
