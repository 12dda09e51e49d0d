// ClusterAccess through @kubernetes/client-node's KubeConfig, for the credentials Weft does not apply itself (exec
// plugins, auth providers, basic auth, proxies; see kubeconfig.ts). client-node is imported on the first request,
// not before: importing it costs ~80 MiB of RSS, which the common cases should not pay.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import type { ClusterAccess, RequestCredentials } from './cluster-access.js';

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

  async credentials(): Promise<RequestCredentials> {
    this.kubeConfig ??= this.loaded();
    const kc = await this.kubeConfig;
    const { RequestContext } = await import('@kubernetes/client-node');
    const context = new RequestContext(this.server, 'GET');
    await kc.applySecurityAuthentication(context);
    if (!this.dispatcherChosen) {
      this.dispatcher = context.getDispatcher();
      this.dispatcherChosen = true;
    }
    return { headers: context.getHeaders(), dispatcher: this.dispatcher };
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
