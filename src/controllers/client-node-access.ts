// ClusterAccess through @kubernetes/client-node's KubeConfig, for the credentials Weft does not apply itself (exec
// plugins, auth providers, basic auth, proxies; see kubeconfig.ts). client-node, and undici whose dispatcher it
// configures (TLS, proxy), are imported on the first request, not before: importing client-node costs ~80 MiB of
// RSS, which the common cases should not pay.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import type { ClusterAccess, HttpRequest, HttpResponse } from './cluster-access.js';

export class ClientNodeAccess implements ClusterAccess {
  private kubeConfig: Promise<KubeConfig> | undefined;
  // client-node builds a new connection pool for every request; keep the first one so connections are reused.
  private dispatcher: Dispatcher | undefined;
  private dispatcherChosen = false;

  /** `load` fills a fresh KubeConfig, e.g. `kc => kc.loadFromDefault()`. */
  constructor(
    readonly server: string,
    readonly namespace: string | undefined,
    private readonly load: (kc: KubeConfig) => void,
  ) {}

  async send(request: HttpRequest): Promise<HttpResponse> {
    this.kubeConfig ??= this.loaded();
    const kc = await this.kubeConfig;
    const { RequestContext } = await import('@kubernetes/client-node');
    const context = new RequestContext(this.server, 'GET');
    await kc.applySecurityAuthentication(context);
    if (!this.dispatcherChosen) {
      this.dispatcher = context.getDispatcher();
      this.dispatcherChosen = true;
    }
    const { fetch } = await import('undici');
    const response = await fetch(request.url, {
      method: request.method,
      headers: { ...context.getHeaders(), ...request.headers },
      body: request.body,
      dispatcher: this.dispatcher,
      signal: request.signal,
    });
    return {
      status: response.status,
      statusText: response.statusText,
      body: response.body ?? (async function* () {})(),
      text: () => response.text(),
    };
  }

  async close(): Promise<void> {
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    this.dispatcherChosen = false;
    await dispatcher?.close();
  }

  private async loaded(): Promise<KubeConfig> {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    this.load(kc);
    return kc;
  }
}
