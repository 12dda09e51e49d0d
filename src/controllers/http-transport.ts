// HTTP/1.1 to the API server through node:http and node:https (loaded as net/builtins.ts says): Node's built-in
// parser, one keep-alive pool per cluster. undici (what fetch is) costs 29 MiB of RSS in a bare process, for its
// JavaScript and its WebAssembly HTTP parser. HTTP/1.1 only, on purpose: Node 24's HTTP/2 client over TLS can spin
// in native code (Http2Session::SendPendingData, growing until std::bad_alloc) after a burst of watch and status
// traffic, seen here about one run in three, the operator then answering nothing, not even SIGTERM.
import type { Agent, IncomingMessage } from 'node:http';
import { http, https } from '../net/builtins.js';
import type { HttpRequest, HttpResponse } from './cluster-access.js';
import type { TlsSettings } from './kubeconfig.js';

/** client-node's keep-alive probe delay: under cloud load balancers' 60 s idle timeouts. */
const TCP_KEEPALIVE_DELAY_MS = 30_000;
/** A request (or a watch) that receives nothing for this long is failed, as undici's body timeout does. */
export const IDLE_TIMEOUT_MS = 300_000;

export class HttpTransport {
  private agent: Agent | undefined;

  constructor(private readonly tls: TlsSettings) {}

  send(request: HttpRequest): Promise<HttpResponse> {
    const secure = request.url.protocol === 'https:';
    this.agent ??= secure
      ? new https.Agent({ ...this.tls, keepAlive: true, keepAliveMsecs: TCP_KEEPALIVE_DELAY_MS })
      : new http.Agent({ keepAlive: true, keepAliveMsecs: TCP_KEEPALIVE_DELAY_MS });
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
    return new Promise((resolve, reject) => {
      const outgoing = (secure ? https : http).request(
        request.url,
        { method: request.method, headers, agent: this.agent, ...(request.signal ? { signal: request.signal } : {}) },
        (incoming) => resolve(responseOf(incoming)),
      );
      outgoing.on('error', reject);
      outgoing.setTimeout(IDLE_TIMEOUT_MS, () => outgoing.destroy(new Error(`no data from the API server for ${IDLE_TIMEOUT_MS / 1000} s`)));
      outgoing.end(request.body);
    });
  }

  /** Closes pooled connections; send() opens a new pool afterwards. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

function responseOf(incoming: IncomingMessage): HttpResponse {
  return {
    status: incoming.statusCode ?? 0,
    statusText: incoming.statusMessage ?? '',
    body: incoming,
    async text() {
      const chunks: Buffer[] = [];
      for await (const chunk of incoming) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
