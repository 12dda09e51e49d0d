// ADS calls over raw HTTP/2, no gRPC client library: a hostile-client test controls every byte, whether the client
// reads, and where it connects from (plaintext, or TLS with a token as an agent would send it).
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { messageType, TypeUrl } from '../protos.js';

export const ADS_SOTW_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** The outcome of a call: its gRPC status code and message (from the trailers, or trailers-only headers). */
export interface CallStatus {
  status: string;
  message: string;
}

/** A session to the plaintext port. */
export function plaintextSession(port: number): http2.ClientHttp2Session {
  return http2.connect(`http://127.0.0.1:${port}`);
}

/**
 * A TLS session to the operator's authenticated port, from `localAddress` (any 127.x address: a distinct peer).
 * The server's certificate is checked against `caPem`; its name is not (it names the operator's Service).
 */
export function tlsSession(port: number, caPem: string, localAddress = '127.0.0.1'): http2.ClientHttp2Session {
  const connect = () =>
    tls.connect({ socket: net.connect({ host: '127.0.0.1', port, localAddress }), ca: caPem, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined });
  return http2.connect(`https://127.0.0.1:${port}`, { createConnection: connect });
}

/** Opens an ADS (SotW) stream; `token` is sent as an agent sends it. */
export function openAdsStream(session: http2.ClientHttp2Session, token?: string): http2.ClientHttp2Stream {
  return session.request({
    ':method': 'POST',
    ':path': ADS_SOTW_PATH,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
}

/** A gRPC message frame: the 5-byte header, then the body. */
export function grpcFrame(body: Buffer): Buffer {
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

/** A DiscoveryRequest, encoded and framed. */
export function discoveryRequestFrame(request: Record<string, unknown>): Buffer {
  const type = messageType('envoy.service.discovery.v3.DiscoveryRequest');
  return grpcFrame(Buffer.from(type.encode(type.fromObject(request)).finish()));
}

/**
 * Resolves with the status `stream` ends with; a stream the server resets instead (RST_STREAM) ends with status
 * `RST_STREAM <code>`; undefined if it fails otherwise.
 */
export function statusOf(stream: http2.ClientHttp2Stream): Promise<CallStatus | undefined> {
  return new Promise((resolve) => {
    const done = (headers: http2.IncomingHttpHeaders) =>
      resolve({ status: String(headers['grpc-status']), message: decodeURIComponent(String(headers['grpc-message'] ?? '')) });
    stream.on('response', (headers) => headers['grpc-status'] !== undefined && done(headers));
    stream.on('trailers', done);
    stream.on('close', () => resolve(stream.rstCode ? { status: `RST_STREAM ${stream.rstCode}`, message: '' } : undefined));
    stream.on('error', () => undefined); // the close that follows says how it ended
  });
}

/** Sends `frame` on a new stream, half-closes, reads everything: resolves with the status the call ends with. */
export function rawCall(session: http2.ClientHttp2Session, frame: Buffer, token?: string): Promise<CallStatus | undefined> {
  const stream = openAdsStream(session, token);
  stream.on('data', () => undefined);
  const status = statusOf(stream);
  stream.end(frame);
  return status;
}

/** An ADS stream that sends one wildcard request of `typeUrl` for `nodeId` and then never reads. */
export function nonReadingStream(session: http2.ClientHttp2Session, nodeId: string, token?: string, typeUrl: string = TypeUrl.listener): Promise<CallStatus | undefined> {
  const stream = openAdsStream(session, token);
  const status = statusOf(stream);
  stream.write(discoveryRequestFrame({ node: { id: nodeId, locality: { zone: 'z1' } }, type_url: typeUrl }));
  stream.pause(); // never reads: the server's writes pile up
  return status;
}
