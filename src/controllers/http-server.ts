// The operator's own HTTP endpoint: Prometheus metrics and the kubelet's liveness/readiness probes.
import { http } from '../net/builtins.js';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HttpServerOptions {
  /** 0 picks a free port (tests); read the bound one from the result. */
  port: number;
  host?: string;
  registry: Registry;
  /** /readyz answers 200 only while this is true (the manager: all informers synced). */
  ready: () => boolean;
}

export interface RunningHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': contentType }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    switch (path) {
      case '/metrics':
        options.registry.metrics().then(
          (text) => reply(200, text, options.registry.contentType),
          (err: unknown) => reply(500, `${String(err)}\n`),
        );
        return;
      case '/healthz': // the event loop answers: the process is alive
        return reply(200, 'ok\n');
      case '/readyz':
        return options.ready() ? reply(200, 'ok\n') : reply(503, 'informers not synced\n');
      default:
        return reply(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
