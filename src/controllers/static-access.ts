// ClusterAccess for credentials that are fixed at load time (see kubeconfig.ts): TLS material in one keep-alive
// pool (http-transport.ts), a bearer token (re-read when its file changes) and Impersonate-User.
import type { ClusterAccess, HttpRequest, HttpResponse } from './cluster-access.js';
import { HttpTransport } from './http-transport.js';
import type { StaticSettings, TlsSettings } from './kubeconfig.js';
import { TokenFile } from './token-file.js';

export class StaticAccess implements ClusterAccess {
  readonly server: string;
  readonly namespace: string | undefined;
  readonly tls: TlsSettings;
  private readonly token: { read(): Promise<string> } | undefined;
  private readonly impersonateUser: string | undefined;
  private readonly transport: HttpTransport;

  constructor(settings: Omit<StaticSettings, 'kind'>) {
    this.server = settings.server;
    this.namespace = settings.namespace;
    this.tls = settings.tls;
    const token = settings.token;
    if (token && 'value' in token) this.token = { read: async () => token.value };
    else if (token) this.token = new TokenFile(token.file);
    this.impersonateUser = settings.impersonateUser;
    this.transport = new HttpTransport(settings.tls);
  }

  async send(request: HttpRequest): Promise<HttpResponse> {
    const headers = { ...request.headers };
    if (this.token) headers.authorization = `Bearer ${await this.token.read()}`;
    if (this.impersonateUser) headers['impersonate-user'] = this.impersonateUser;
    return this.transport.send({ ...request, headers });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
