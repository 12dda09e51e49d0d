// The plaintext TCP listener in front of the gRPC server. grpc-js listens with Node's default accept backlog
// (511): when thousands of proxies connect at once (an operator restart, a node drain) the kernel's accept queue
// overflows while the event loop is busy, and each dropped SYN costs its proxy a 1 s, then 3 s, retransmit. A
// listener of our own with a deep backlog hands its connections to grpc-js instead.
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';

/** Asked of the kernel, which caps it at net.core.somaxconn (4096 on current Linux). */
export const LISTEN_BACKLOG = 4096;

export interface BoundListener {
  port: number;
  /** Stops accepting; open connections are the gRPC server's to close. */
  close(): void;
}

/** Listens on `host:port` (0 picks a port) and serves every connection with `server`, plaintext. */
export function listenPlaintext(server: grpc.Server, host: string, port: number, backlog = LISTEN_BACKLOG): Promise<BoundListener> {
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const listener = net.createServer((socket) => injector.injectConnection(socket));
  return new Promise((resolve, reject) => {
    listener.once('error', (err) => {
      injector.destroy();
      reject(err);
    });
    listener.listen({ host, port, backlog }, () => {
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
