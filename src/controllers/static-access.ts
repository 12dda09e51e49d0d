// ClusterAccess for credentials that are fixed at load time (see kubeconfig.ts): TLS material in one undici Agent
// (kept, so connections are reused), a bearer token (re-read when its file changes) and Impersonate-User.
import { Agent, type Dispatcher } from 'undici';
import type { ClusterAccess, RequestCredentials } from './cluster-access.js';
import type { StaticSettings, TlsSettings } from './kubeconfig.js';
import { TokenFile } from './token-file.js';

export class StaticAccess implements ClusterAccess {
  readonly server: string;
  readonly namespace: string | undefined;
  readonly tls: TlsSettings;
  private readonly token: { read(): Promise<string> } | undefined;
  private readonly impersonateUser: string | undefined;
  private dispatcher: Dispatcher | undefined;

  constructor(settings: Omit<StaticSettings, 'kind'>) {
    this.server = settings.server;
    this.namespace = settings.namespace;
    this.tls = settings.tls;
    const token = settings.token;
    if (token && 'value' in token) this.token = { read: async () => token.value };
    else if (token) this.token = new TokenFile(token.file);
    this.impersonateUser = settings.impersonateUser;
  }

  async credentials(): Promise<RequestCredentials> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${await this.token.read()}`;
    if (this.impersonateUser) headers['impersonate-user'] = this.impersonateUser;
    // client-node's keep-alive probe delay: 30 s, under cloud load balancers' 60 s idle timeouts. HTTP/1.1 only:
    // undici 8 negotiates HTTP/2 by default, and Node 24's HTTP/2 client over TLS can spin in native code
    // (Http2Session::SendPendingData, growing until std::bad_alloc) after a burst of watch and status traffic:
    // seen here about one run in three, the operator then answering nothing, not even SIGTERM.
    this.dispatcher ??= new Agent({ allowH2: false, connect: { ...this.tls, keepAlive: true, keepAliveInitialDelay: 30_000 } });
    return { headers, dispatcher: this.dispatcher };
  }

  async close(): Promise<void> {
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    await dispatcher?.close();
  }
}
