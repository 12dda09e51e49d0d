// The cluster a verb talks to, from kubectl's global flags: --kubeconfig, --context and -n as kubectl reads them.
// The same loader as the operator (src/controllers/cluster-access.ts): client-node only for credentials Weft does
// not apply itself, so `weft operator` (whose main.ts imports the CLI for its verb names) never loads it at start.
import { loadClusterAccess, type ClusterAccess } from '../controllers/cluster-access.js';
import { RestClient } from '../controllers/rest-client.js';
import type { GlobalOptions } from './index.js';

export interface Cluster {
  client: RestClient;
  /** -n, else the context's namespace, else `default`. */
  namespace: string;
}

export function accessFor(options: Pick<GlobalOptions, 'kubeconfig' | 'context'>): ClusterAccess {
  try {
    return loadClusterAccess({ ...(options.kubeconfig ? { kubeconfigPath: options.kubeconfig } : {}), ...(options.context ? { context: options.context } : {}) });
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(options.context ? `--context: ${message}` : `${message} (set KUBECONFIG, --kubeconfig or --context)`, { cause: err });
  }
}

export function connect(options: GlobalOptions): Cluster {
  const access = accessFor(options);
  return { client: new RestClient(access), namespace: options.namespace ?? access.namespace ?? 'default' };
}
