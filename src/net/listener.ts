// The TCP listener in front of a gRPC server (the plaintext xDS port and the TLS port alike). grpc-js listens with
// Node's default accept backlog (511): when thousands of proxies connect at once (an operator restart, a node
// drain) the kernel's accept queue overflows while the event loop is busy, and each dropped SYN costs its proxy a
// 1 s, then 3 s, retransmit. A listener of our own has a deep backlog, counts connections per peer (the client's
// IP) and hands each connection it admits to grpc-js, which does TLS and HTTP/2 as if it had accepted it itself.
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { OpenCounts } from './open-counts.js';

/** Asked of the kernel, which caps it at net.core.somaxconn (4096 on current Linux). */
export const LISTEN_BACKLOG = 4096;

export interface BoundListener {
  port: number;
  /** Stops accepting; open connections are the gRPC server's to close. */
  close(): void;
}

export interface ListenOptions {
  backlog?: number;
  /**
   * Connections one peer (IP address) may hold open; past it a new one is closed as soon as it is accepted, before
   * any TLS or HTTP/2 work. Unlimited when absent.
   */
  maxConnectionsPerPeer?: number;
  /** A connection refused for its peer's count (metrics, logs). */
  onRefused?(peer: string, open: number): void;
  /** A connection accepted (before TLS and HTTP/2): the first sign of a connect storm. */
  onAccepted?(): void;
}

/** Listens on `host:port` (0 picks a port) and serves every admitted connection with `server` and `credentials`. */
export function listen(server: grpc.Server, credentials: grpc.ServerCredentials, host: string, port: number, options: ListenOptions = {}): Promise<BoundListener> {
  const injector = server.createConnectionInjector(credentials);
  const perPeer = new OpenCounts<string>();
  const max = options.maxConnectionsPerPeer;
  const listener = net.createServer((socket) => {
    options.onAccepted?.();
    // Counted only under a cap: asking the kernel for the peer's address is a system call per connection.
    if (max !== undefined) {
      const peer = socket.remoteAddress ?? 'unknown';
      const open = perPeer.get(peer);
      if (open >= max) {
        socket.destroy();
        options.onRefused?.(peer, open);
        return;
      }
      socket.once('close', perPeer.open(peer));
    }
    injector.injectConnection(socket);
  });
  return new Promise((resolve, reject) => {
    listener.once('error', (err) => {
      injector.destroy();
      reject(err);
    });
    listener.listen({ host, port, backlog: options.backlog ?? LISTEN_BACKLOG }, () => {
      const address = listener.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: () => {
          listener.close();
          injector.destroy();
        },
      });
    });
  });
}

/** Plaintext, no per-peer cap (the loopback xDS port for tests and local development: every client is one peer). */
export function listenPlaintext(server: grpc.Server, host: string, port: number, options: Pick<ListenOptions, 'backlog' | 'onAccepted'> = {}): Promise<BoundListener> {
  return listen(server, grpc.ServerCredentials.createInsecure(), host, port, options);
}
