// The operator's TLS gRPC port: the certificate service today, and any other service registered before the
// manager starts (the xDS engineer can put ADS here: same port, same rotating serving certificate). Runs on every
// replica: each one signs with the CA it has read.
import { experimental, Server, type ChannelOptions, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Runnable } from '../controllers/index.js';
import { listen, type BoundListener } from '../net/listener.js';
import type { ServingCertificate } from './serving.js';

export interface SecureServerOptions {
  host: string;
  port: number;
  log: Logger;
  /** gRPC server options (channelz stays off). */
  serverOptions?: ChannelOptions;
  /** Connections one client IP may hold open; past it a new one is closed at once. Unlimited when absent. */
  maxConnectionsPerPeer?: number;
  onConnectionRefused?(peer: string): void;
  /** A connection accepted, before TLS and HTTP/2 (the agents' relays reconnecting after a restart show here first). */
  onConnectionAccepted?(): void;
}

export class SecureServer implements Runnable {
  readonly needLeaderElection = false;
  private readonly server: Server;
  private boundPort: number | undefined;
  private readonly bound: Promise<number>;
  private resolveBound: (port: number) => void = () => {};

  constructor(
    private readonly serving: ServingCertificate,
    private readonly options: SecureServerOptions,
  ) {
    this.bound = new Promise((resolve) => (this.resolveBound = resolve));
    this.server = new Server({ ...options.serverOptions, 'grpc.enable_channelz': 0 });
  }

  addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    this.server.addService(definition, implementation);
  }

  /** The bound port (useful with port 0), once listening. */
  port(): Promise<number> {
    return this.bound;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.serving.start(signal);
    // Until the CA Secret is readable there is no certificate to serve with: listen only once there is one.
    if (!(await this.serving.ready(signal))) return;
    // Client certificates are not required: callers authenticate with ServiceAccount tokens. (grpc-js declares
    // the first parameter as the CA provider, but passes it on as the identity provider, as grpc-js-xds relies on.)
    const credentials = experimental.createCertificateProviderServerCredentials(this.serving, null, false);
    const { host, port, log, maxConnectionsPerPeer, onConnectionRefused, onConnectionAccepted } = this.options;
    let refusedLogged = 0;
    const listener: BoundListener = await listen(this.server, credentials, host, port, {
      ...(maxConnectionsPerPeer !== undefined ? { maxConnectionsPerPeer } : {}),
      ...(onConnectionAccepted ? { onAccepted: onConnectionAccepted } : {}),
      onRefused: (peer, open) => {
        onConnectionRefused?.(peer);
        // A flood would flood the log too: at most one line a second.
        if (Date.now() - refusedLogged > 1000) {
          refusedLogged = Date.now();
          log.warn({ peer, open, max: maxConnectionsPerPeer }, 'TLS connection refused: too many from one peer');
        }
      },
    });
    this.boundPort = listener.port;
    this.resolveBound(this.boundPort);
    log.info({ host, port: this.boundPort }, 'TLS gRPC server listening (certificate service)');
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    listener.close();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
