// Debug endpoints of the xDS side (loopback only, like the plaintext xDS port):
//   GET /debug/syncz                   every connected proxy: kind, protocol, per type the subscription, the
//                                      version it ACKed, its last NACK
//   GET /debug/config_dump?proxy=<id>  one proxy's config: each resource it should hold, as JSON, with the
//                                      version it has ACKed or rejected
//   GET /debug/resources               each mesh resource's sync state (served generation, acked/expected, NACKs)
import type { Server } from 'node:http';
import { http } from '../net/builtins.js';
import type { AddressInfo } from 'node:net';
import type { ProxyView } from './cache.js';
import { decodeResource } from './resource.js';
import type { ConnectedProxy } from './server/stream.js';
import type { TypeState } from './server/type-state.js';
import type { ResourceSync } from './sync-status.js';

export interface DebugSources {
  proxies(): Iterable<ConnectedProxy>;
  resources(): ReadonlyMap<string, ResourceSync>;
}

function typeSummary(state: TypeState) {
  return {
    subscribed: state.wildcard ? ['*', ...state.subscribed] : [...state.subscribed],
    ackedVersion: state.ackedVersion,
    lastNonce: state.lastNonce,
    ...(state.lastRejection ? { lastRejection: state.lastRejection } : {}),
  };
}

export function syncz(proxies: Iterable<ConnectedProxy>) {
  return [...proxies].map((p) => ({
    id: p.proxy?.id ?? null,
    kind: p.proxy?.kind ?? null,
    protocol: p.protocol,
    connectedAt: p.connectedAt.toISOString(),
    view: p.view?.key ?? null,
    types: Object.fromEntries([...p.types].map(([typeUrl, state]) => [typeUrl, typeSummary(state)])),
  }));
}

export function configDump(p: ConnectedProxy) {
  const view: ProxyView | undefined = p.view;
  return {
    ...syncz([p])[0],
    resources: [...p.types].flatMap(([typeUrl, state]) => {
      const resources = view ? state.wanted(view) : [];
      return resources.map((r) => ({
        typeUrl,
        name: r.name,
        version: r.version,
        ackedVersion: state.acked.get(r.name)?.version ?? null,
        ...(state.rejected.has(r.name) ? { rejected: { version: state.rejected.get(r.name)!.version, error: state.rejected.get(r.name)!.error } } : {}),
        sources: r.sources,
        config: decodeResource(r),
      }));
    }),
  };
}

export async function startDebugServer(sources: DebugSources, port: number, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://debug');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
    };
    try {
      switch (url.pathname) {
        case '/debug/syncz':
          return reply(200, syncz(sources.proxies()));
        case '/debug/config_dump': {
          const id = url.searchParams.get('proxy');
          const found = [...sources.proxies()].filter((p) => p.proxy?.id === id);
          if (found.length === 0) return reply(404, { error: `no connected proxy with node id ${JSON.stringify(id)}; see /debug/syncz` });
          return reply(200, found.map(configDump));
        }
        case '/debug/resources':
          return reply(200, Object.fromEntries(sources.resources()));
        default:
          return reply(404, { error: 'try /debug/syncz, /debug/config_dump?proxy=<node id>, /debug/resources' });
      }
    } catch (err) {
      return reply(500, { error: String(err) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
