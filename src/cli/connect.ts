// The cluster a verb talks to, from kubectl's global flags: --kubeconfig, --context and -n as kubectl reads them.
import { KubeConfig } from '@kubernetes/client-node';
import { RestClient } from '../controllers/rest-client.js';
import type { GlobalOptions } from './index.js';

export interface Cluster {
  client: RestClient;
  /** -n, else the context's namespace, else `default`. */
  namespace: string;
}

export function kubeConfigFor(options: Pick<GlobalOptions, 'kubeconfig' | 'context'>): KubeConfig {
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  if (options.context) {
    if (!kc.getContextObject(options.context)) throw new Error(`--context: no context ${options.context} in the kubeconfig`);
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('no cluster: set KUBECONFIG, --kubeconfig or --context');
  return kc;
}

export function connect(options: GlobalOptions): Cluster {
  const kc = kubeConfigFor(options);
  const namespace = options.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  return { client: new RestClient(kc), namespace };
}
