// Ending a stream whose client stopped reading. A gRPC status cannot reach such a client (trailers queue behind the
// data it does not take) and, while they wait, the unread bytes stay buffered in the server. An HTTP/2 RST_STREAM
// is a control frame: the client's connection processes it at once, and the server drops what was buffered for the
// stream. ENHANCE_YOUR_CALM is the code gRPC clients report as RESOURCE_EXHAUSTED.
import type { ServerHttp2Stream } from 'node:http2';
import { http2 } from '../../net/builtins.js';

/**
 * Resets `call`'s HTTP/2 stream with ENHANCE_YOUR_CALM. grpc-js has no public way to do that: its call objects keep
 * the HTTP/2 stream on the innermost call of the interceptor chain. Returns false if it could not be found (a
 * grpc-js upgrade moved it: the limits unit test fails then).
 */
export function resetStream(call: object): boolean {
  let inner: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; inner && depth < 8; depth++) {
    const stream = (inner as { stream?: Partial<ServerHttp2Stream> }).stream;
    if (stream && typeof stream.close === 'function' && typeof stream.rstCode !== 'undefined') {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      return true;
    }
    inner = (inner as { nextCall?: unknown }).nextCall;
  }
  return false;
}
